import { renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UpdateResultSchema } from '../main/engine/api/contract.js';
import { runEvaluateFolder } from '../main/engine/use-cases/evaluate-folder.js';
import { loadHeadModel } from '../main/engine/use-cases/head-model.js';
import { runPredict } from '../main/engine/use-cases/predict.js';
import { Project, type ProjectOptions } from '../main/engine/project/project.js';
import { runUpdate } from '../main/engine/use-cases/update.js';
import { listVersions, rollback } from '../main/engine/use-cases/versions.js';
import { CALTECH_DIR, CORAL_DIR } from './support/paths.js';
import { addCaltechClasses, tempDir, TEST_CACHE_DIR } from './support/project.js';

const open = (root: string, extra: Partial<ProjectOptions> = {}) =>
  Project.open({ root, modelDir: CORAL_DIR, cacheDir: TEST_CACHE_DIR, device: 'cpu', ...extra });

async function update(root: string, extra: Partial<ProjectOptions> = {}) {
  const project = open(root, extra);
  try {
    return UpdateResultSchema.parse(await runUpdate(project));
  } finally {
    project.close();
  }
}

/** Scores of the head model on every held-out sample, in a stable order. */
async function headScores(root: string, stateDir?: string) {
  const project = open(root, { stateDir });
  try {
    const { learner, state, backbone } = await loadHeadModel(project);
    const heldOut = project.store.samples.all().filter((row) => row.split === 'heldout' && row.status === 'ready');
    const hashes = [...new Set(heldOut.map((row) => row.contentHash!))].sort();
    const features = project.store.embeddings.matrix(hashes, backbone.key, backbone.featureDim);
    return { classNames: learner.classNames(state), scores: await learner.predict(state, features, hashes.length) };
  } finally {
    project.close();
  }
}

describe('incremental update on real photos with the real backbone', () => {
  const root = tempDir();
  addCaltechClasses(root, ['airplanes', 'butterfly', 'chair']);

  it('learns the first classes, all new', async () => {
    const result = await update(root);
    expect(result.status).toBe('committed');
    expect(result.version.id).toBe(1);
    expect(result.classes.added).toEqual(['airplanes', 'butterfly', 'chair']);
    expect(result.samples).toMatchObject({ files: 90, embedded: 90, fromCache: 0, failed: 0 });
    expect(result.samples.train + result.samples.heldOut).toBe(90);
    expect(result.metrics.retained).toBeNull();
    expect(result.metrics.new).toBe(result.metrics.overall);
    expect(result.metrics.overall).toBeGreaterThan(0.8);
    expect(result.device).toEqual({ requested: 'cpu', device: 'cpu' });
  });

  it('learns new classes and samples, keeps old ones, and relabels a moved file from the cache', async () => {
    addCaltechClasses(root, ['cougar_body', 'ketch']);
    const moved = path.join(root, 'chair', 'image_0001.jpg');
    renameSync(moved, path.join(root, 'butterfly', 'moved-from-chair.jpg'));
    const result = await update(root);
    expect(result.version).toMatchObject({ id: 2, parentId: 1 });
    expect(result.classes.added).toEqual(['cougar_body', 'ketch']);
    expect(result.samples.embedded).toBe(60); // the moved photo was not embedded again
    expect(result.samples.fromCache).toBe(1);
    expect(result.metrics.retained).toBeGreaterThan(0.8);
    expect(result.metrics.new).toBeGreaterThan(0.8);
    expect(result.metrics.forgetting).not.toBeNull();
    const groups = Object.fromEntries(result.metrics.perClass.map((entry) => [entry.className, entry.group]));
    expect(groups).toMatchObject({ airplanes: 'retained', ketch: 'new' });
    expect(result.metrics.confusion.classNames).toHaveLength(5);
  });

  it('reports an unchanged folder as unchanged, without a new version', async () => {
    const result = await update(root);
    expect(result.status).toBe('unchanged');
    expect(result.version.id).toBe(2);
    expect(result.samples).toMatchObject({ embedded: 0, learned: 0 });
  });

  it('removing a class folder removes the class, exactly as training from scratch would', async () => {
    rmSync(path.join(root, 'butterfly'), { recursive: true });
    const result = await update(root);
    expect(result.classes.removed).toEqual(['butterfly']);
    expect(result.version.classNames).not.toContain('butterfly');
    expect(result.samples.unlearned).toBeGreaterThan(20);

    const fromScratch = tempDir();
    const scratch = await update(root, { stateDir: fromScratch });
    expect(scratch.version.id).toBe(1);
    const incremental = await headScores(root);
    const joint = await headScores(root, fromScratch);
    expect(new Set(incremental.classNames)).toEqual(new Set(joint.classNames));
    const columnOf = joint.classNames.map((name) => incremental.classNames.indexOf(name));
    const classes = joint.classNames.length;
    let maxDiff = 0;
    for (let row = 0; row < joint.scores.length / classes; row++) {
      for (let column = 0; column < classes; column++) {
        maxDiff = Math.max(maxDiff, Math.abs(joint.scores[row * classes + column]! - incremental.scores[row * classes + columnOf[column]!]!));
      }
    }
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('predicts, evaluates an external folder, rolls back and continues from the rolled-back version', async () => {
    const project = open(root);
    try {
      const photo = path.join(CALTECH_DIR, 'test', 'ketch', 'image_0002.jpg');
      const prediction = await runPredict(project, [photo, path.join(root, 'nope.jpg')], 3);
      expect(prediction.predictions[0]!.top[0]!.className).toBe('ketch');
      expect(prediction.predictions[0]!.top).toHaveLength(3);
      expect(prediction.failed).toEqual([{ path: path.join(root, 'nope.jpg'), reason: expect.stringMatching(/disappeared|not found|no such/i) }]);

      const data = tempDir();
      addCaltechClasses(data, ['airplanes', 'ketch', 'Faces'], { split: 'test', limit: 8 });
      const evaluation = await runEvaluateFolder(project, data);
      expect(evaluation.unknownClasses).toEqual(['Faces']);
      expect(evaluation.metrics.sampleCount).toBe(16);
      // airplanes came in version 1 (retained); ketch in version 2, which is no longer head's own
      expect(evaluation.metrics.overall).toBeGreaterThan(0.8);

      const back = rollback(project, 1);
      expect(back).toMatchObject({ previousHead: 3, head: { id: 1, isHead: true } });
      expect(listVersions(project).versions.map((version) => version.id)).toEqual([1, 2, 3]);
    } finally {
      project.close();
    }
    const next = await update(root);
    expect(next.version).toMatchObject({ id: 4, parentId: 1 });
    expect(next.classes.added.sort()).toEqual(['cougar_body', 'ketch']);
    expect(next.classes.removed).toEqual(['butterfly']);
    expect(next.samples.embedded).toBe(0);
  });
});
