import { calibrateOnHeldOut } from '../../evaluation/confidence.js';
import { confidences } from '../../evaluation/calibration.js';
import type { ResolvedBackbone } from '../../backbones/resolve.js';
import type { Learner } from '../../learners/index.js';
import type { ProjectStore } from '../../store/index.js';
import type { Member, VersionRecord } from '../../store/versions.js';
import { memberKey } from '../training-set.js';
import { crossFittedScores, type CrossFitMethod } from './cross-fit.js';

export interface OutOfSample {
  versionId: number;
  /** row in `probabilities` of each training member of the version (memberKey) */
  rowOf: Map<string, number>;
  /** members × classes, calibrated out-of-sample probabilities */
  probabilities: Float64Array;
  /** 0 for members that could not be judged (their class's only one) */
  judged: Uint8Array;
  method: CrossFitMethod;
  folds: number;
}

/**
 * A version and its training set never change, so neither do its members' out-of-sample
 * probabilities: the app's engine keeps them per open store, and the Review screen's reload after
 * each move or exclusion only filters and re-thresholds them.
 */
const cache = new WeakMap<ProjectStore, OutOfSample>();

/**
 * Out-of-sample probabilities of every training member of `version` (cross-fit.ts), softmax with a
 * temperature fitted on these same scores (they are held-out scores, so fitting on them is fair).
 */
export async function outOfSampleProbabilities(
  store: ProjectStore,
  model: { version: VersionRecord; learner: Learner<unknown>; state: unknown; backbone: ResolvedBackbone },
): Promise<OutOfSample> {
  const { version, learner, state, backbone } = model;
  const cached = cache.get(store);
  if (cached?.versionId === version.id) return cached;
  const versionMembers = store.versions.members(version.id);
  const present = store.embeddings.present(versionMembers.map((member) => member.contentHash), backbone.key);
  const members: Member[] = versionMembers.filter((member) => present.has(member.contentHash));
  const classNames = learner.classNames(state);
  const C = classNames.length;
  const result: OutOfSample = {
    versionId: version.id,
    rowOf: new Map(members.map((member, row) => [memberKey(member), row])),
    probabilities: new Float64Array(members.length * C),
    judged: new Uint8Array(members.length),
    method: 'exact',
    folds: 0,
  };
  if (members.length > 0) {
    const fit = await crossFittedScores(
      version.learner,
      learner,
      state,
      {
        features: store.embeddings.matrix(members.map((member) => member.contentHash), backbone.key, backbone.featureDim),
        labels: members.map((member) => member.className),
        keys: members.map((member) => member.contentHash),
        count: members.length,
        dim: backbone.featureDim,
      },
      backbone.fineTuning?.cutShape,
    );
    const judged = members.flatMap((_, row) => (fit.judged[row] ? [row] : []));
    const judgedScores = new Float32Array(judged.length * C);
    judged.forEach((row, i) => judgedScores.set(fit.scores.subarray(row * C, (row + 1) * C), i * C));
    const { temperature } = calibrateOnHeldOut(judgedScores, judged.map((row) => members[row]!.className), classNames);
    for (let row = 0; row < members.length; row++) result.probabilities.set(confidences(fit.scores.subarray(row * C, (row + 1) * C), temperature), row * C);
    result.judged = fit.judged;
    result.method = fit.method;
    result.folds = fit.folds;
  }
  cache.set(store, result);
  return result;
}
