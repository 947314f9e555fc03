import type { ReviewResult } from '../../api/contract.js';
import { argmaxClassNames } from '../../evaluation/accuracy-report.js';
import { versionTemperature } from '../../evaluation/confidence.js';
import { confidences } from '../../evaluation/calibration.js';
import type { Project } from '../../project/project.js';
import type { SampleRow } from '../../store/samples.js';
import { loadHeadModel } from '../head-model.js';
import { memberKey } from '../training-set.js';
import { movableClassFolders } from './class-folders.js';
import { findLabelIssues } from './label-issues.js';
import { describeMove } from './move-sample.js';
import { outOfSampleProbabilities } from './out-of-sample.js';

export const DEFAULT_REVIEW_LIMIT = 50;
/** Moves listed for undo on the Review screen. */
const RECENT_MOVES = 20;

/**
 * What the current version gets wrong, for the Review screen and `keizoku review`:
 * - held-out samples it misclassifies, with its calibrated confidence, most confident first;
 * - training samples whose label it most strongly disagrees with, judged out of sample
 *   (cross-fit.ts) by confident learning (label-issues.ts), most suspicious first.
 * Excluded files and files moved since the last update are in neither list (the model has not
 * judged them as they are now). Reads cached embeddings only: nothing is embedded.
 */
export async function runReview(project: Project, options: { limit?: number } = {}): Promise<ReviewResult> {
  const started = performance.now();
  const limit = options.limit ?? DEFAULT_REVIEW_LIMIT;
  const { store } = project;
  const { version, learner, state, backbone } = await loadHeadModel(project);
  const excluded = store.exclusions.paths();
  const classNames = learner.classNames(state);
  const known = new Set(classNames);
  const column = new Map(classNames.map((name, index) => [name, index]));
  const rows = store.samples
    .all()
    .filter((row) => row.status === 'ready' && row.contentHash !== null && !excluded.has(row.relPath) && known.has(row.className));
  const cached = store.embeddings.present(rows.map((row) => row.contentHash!), backbone.key);
  const usable = rows.filter((row) => cached.has(row.contentHash!));
  const dim = backbone.featureDim;

  // Held-out mistakes: the head itself scores them (it never trained on them).
  const heldOutStarted = performance.now();
  const heldOut = usable.filter((row) => row.split === 'heldout');
  const temperature = versionTemperature(version);
  const mistakes: ReviewResult['mistakes'] = [];
  if (heldOut.length > 0) {
    const scores = await learner.predict(state, store.embeddings.matrix(heldOut.map((row) => row.contentHash!), backbone.key, dim), heldOut.length);
    const predicted = argmaxClassNames(scores, heldOut.length, classNames);
    const C = classNames.length;
    heldOut.forEach((row, i) => {
      if (predicted[i] === row.className) return;
      const probabilities = confidences(scores.subarray(i * C, (i + 1) * C), temperature);
      mistakes.push({
        path: row.relPath,
        trueClass: row.className,
        predictedClass: predicted[i]!,
        confidence: probabilities[column.get(predicted[i]!)!]!,
        trueClassConfidence: probabilities[column.get(row.className)!]!,
      });
    });
    mistakes.sort((a, b) => b.confidence - a.confidence || a.path.localeCompare(b.path));
  }
  const heldOutMs = performance.now() - heldOutStarted;

  // Suspected label errors among the head's training members that still have a file; thresholds
  // (per-class mean self-confidence) over those judged now.
  const issuesStarted = performance.now();
  const outOfSample = await outOfSampleProbabilities(store, { version, learner, state, backbone });
  const training = usable.filter((row) => row.split === 'train' && outOfSample.rowOf.has(memberKey({ contentHash: row.contentHash!, className: row.className })));
  const members = distinctMembers(training).filter((member) => outOfSample.judged[outOfSample.rowOf.get(memberKey(member))!]);
  const C = classNames.length;
  const probabilities = new Float64Array(members.length * C);
  members.forEach((member, i) => {
    const row = outOfSample.rowOf.get(memberKey(member))!;
    probabilities.set(outOfSample.probabilities.subarray(row * C, (row + 1) * C), i * C);
  });
  const labelIssues: ReviewResult['labelIssues'] = findLabelIssues(probabilities, Int32Array.from(members, (member) => column.get(member.className)!), C).flatMap((issue) =>
    members[issue.row]!.paths.map((path) => ({
      path,
      givenClass: classNames[issue.given]!,
      suggestedClass: classNames[issue.suggested]!,
      givenConfidence: issue.givenProbability,
      suggestedConfidence: issue.suggestedProbability,
      margin: issue.margin,
    })),
  );
  const judgedRows = members.reduce((sum, member) => sum + member.paths.length, 0);
  const { method, folds } = outOfSample;
  const labelIssuesMs = performance.now() - issuesStarted;

  return {
    command: 'review',
    versionId: version.id,
    learner: version.learner,
    classNames: await movableClassFolders(project),
    mistakes: mistakes.slice(0, limit),
    heldOut: { samples: heldOut.length, mistakes: mistakes.length },
    labelIssues: labelIssues.slice(0, limit),
    training: { samples: training.length, judged: judgedRows, issues: labelIssues.length, method, folds },
    excluded: store.exclusions.list().map((entry) => ({ path: entry.relPath, excludedAt: entry.excludedAt })),
    moves: store.moves.recent(RECENT_MOVES).map(describeMove),
    timingsMs: { heldOut: heldOutMs, labelIssues: labelIssuesMs, total: performance.now() - started },
  };
}

/** Each (content, class) once, with every file that holds it. */
function distinctMembers(rows: readonly SampleRow[]): Array<{ contentHash: string; className: string; paths: string[] }> {
  const byKey = new Map<string, { contentHash: string; className: string; paths: string[] }>();
  for (const row of rows) {
    const member = { contentHash: row.contentHash!, className: row.className };
    const key = memberKey(member);
    const entry = byKey.get(key);
    if (entry) entry.paths.push(row.relPath);
    else byKey.set(key, { ...member, paths: [row.relPath] });
  }
  return [...byKey.values()];
}
