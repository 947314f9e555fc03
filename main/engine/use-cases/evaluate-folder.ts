import path from 'node:path';
import type { EvalResult } from '../api/contract.js';
import { buildAccuracyReport, predictClassNames } from '../evaluation/accuracy-report.js';
import { scanProject } from '../dataset/index.js';
import { embedFilesCached } from '../embedding/embed-files-cached.js';
import { FeatureRuntime } from '../runtime/feature-runtime.js';
import { loadHeadModel } from './head-model.js';
import { UsageError, type Project } from '../project/project.js';
import { knownSubGroups, subGroupOf } from '../evaluation/sub-groups.js';

/**
 * Accuracy of the head version on an external labeled folder (same layout: one subfolder
 * per class). Classes first learned in the head version count as new, earlier ones as retained.
 */
export async function runEvaluateFolder(project: Project, dataDir: string): Promise<EvalResult> {
  const started = performance.now();
  const { version, learner, state, backbone } = await loadHeadModel(project);
  const runtime = new FeatureRuntime(backbone, project.options.device ?? 'auto');
  try {
    const root = path.resolve(dataDir);
    const scan = await scanProject(root).catch((error: Error) => {
      throw new UsageError(`cannot read the data folder ${root}: ${error.message}`);
    });
    const known = new Set(learner.classNames(state));
    const unknownClasses = scan.classNames.filter((name) => !known.has(name));
    const files = scan.files.filter((file) => known.has(file.className));
    const embedStarted = performance.now();
    const { vectors, failed } = await embedFilesCached(
      project,
      runtime,
      files.map((file) => ({ absPath: file.absPath, relPath: file.relPath })),
    );
    const embedMs = performance.now() - embedStarted;

    const evaluateStarted = performance.now();
    const usable = files.filter((file) => vectors.has(file.relPath));
    const dim = backbone.featureDim;
    const features = new Float32Array(usable.length * dim);
    usable.forEach((file, row) => features.set(vectors.get(file.relPath)!, row * dim));
    const labels = usable.map((file) => file.className);
    const predicted = await predictClassNames(learner, state, { features, labels, count: usable.length, dim });
    const classNames = version.classes.map((entry) => entry.name);
    const metrics = buildAccuracyReport({
      truth: labels,
      predicted,
      previousPredicted: null,
      classNames,
      newClasses: version.classes.filter((entry) => entry.introducedIn === version.id).map((entry) => entry.name),
      // Every file of the data folder is a sample of its own, so each counts in its own sub-group.
      subGroups: { of: usable.map((file) => subGroupOf(file.relPath)), known: knownSubGroups(usable) },
    });
    return {
      command: 'eval',
      versionId: version.id,
      dataDir: root,
      metrics,
      unknownClasses,
      failed: [...scan.failed, ...failed].sort((a, b) => a.path.localeCompare(b.path)),
      device: runtime.report,
      timingsMs: { embed: embedMs, evaluate: performance.now() - evaluateStarted, total: performance.now() - started },
    };
  } finally {
    await runtime.close();
  }
}
