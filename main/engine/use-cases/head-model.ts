import type { ResolvedBackbone } from '../backbones/resolve.js';
import { getLearner, type Learner } from '../learners/index.js';
import { UsageError, type Project } from '../project/project.js';
import type { VersionRecord } from '../store/versions.js';

export class NoModelError extends UsageError {}

/** The head version with its learner state, checked against the backbone that will embed. */
export async function loadHeadModel(project: Project): Promise<{
  version: VersionRecord;
  learner: Learner<unknown>;
  state: unknown;
  backbone: ResolvedBackbone;
}> {
  const version = project.store.versions.head();
  if (!version) throw new NoModelError(`no model yet in ${project.stateDir}: run 'keizoku update --root ${project.root}' first`);
  const backbone = await project.backbone(version.learner);
  if (backbone.key !== version.backbone) {
    throw new UsageError(`the current model (version ${version.id}) was trained on backbone '${version.backbone}', not '${backbone.key}'`);
  }
  const learner = getLearner(version.learner);
  const state = learner.deserialize(project.store.versions.learnerState(version.id));
  return { version, learner, state, backbone };
}
