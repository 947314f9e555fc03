// The app's predictions keep the model and backbone session open between calls (Try it's live
// camera asks several times a second): the same answers as a one-off predict, one load for many
// calls, and a reload whenever the head version changes (update, rollback) or after close.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Project } from '../main/engine/project/project.js';
import { runPredict } from '../main/engine/use-cases/predict.js';
import { runUpdate } from '../main/engine/use-cases/update.js';
import { rollback } from '../main/engine/use-cases/versions.js';
import { WarmPredictor } from '../main/engine/use-cases/warm-predictor.js';
import { CALTECH_DIR, CORAL_DIR } from './support/paths.js';
import { addCaltechClasses, tempDir, TEST_CACHE_DIR } from './support/project.js';
import { cachedEmbeddings } from './support/project-db.js';

const open = (root: string) => Project.open({ root, modelDir: CORAL_DIR, cacheDir: TEST_CACHE_DIR, device: 'cpu' });

async function update(root: string) {
  const project = open(root);
  try {
    return await runUpdate(project);
  } finally {
    project.close();
  }
}

describe('WarmPredictor', () => {
  it('answers as runPredict does, loads once for many calls, and reloads when the head changes', async () => {
    const root = tempDir('keizoku-warm-');
    addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 6 });
    await update(root);
    const photos = ['ketch', 'airplanes', 'Motorbikes'].map((name) => path.join(CALTECH_DIR, 'test', name, readdirSync(path.join(CALTECH_DIR, 'test', name)).sort()[0]!));
    const predictor = new WarmPredictor();
    try {
      const project = open(root);
      try {
        const cold = await runPredict(project, photos, 3);
        const first = await predictor.predict(project, photos, { top: 3 });
        expect(first.predictions).toEqual(cold.predictions);
        expect(first.versionId).toBe(1);
        // Concurrent calls (a folder run beside the live camera) run one at a time on the same session.
        const [a, b] = await Promise.all([predictor.predict(project, [photos[0]!], { top: 3 }), predictor.predict(project, [photos[1]!], { top: 3 })]);
        expect(a.predictions[0]!.top[0]!.className).toBe('ketch');
        expect(b.predictions[0]!.top[0]!.className).toBe('airplanes');
        expect(predictor.loads).toBe(1);
      } finally {
        project.close();
      }

      // A new version (a new class) is picked up by the next call, on a freshly opened project as the app does.
      addCaltechClasses(root, ['Motorbikes'], { limit: 6 });
      await update(root);
      const afterUpdate = open(root);
      try {
        const second = await predictor.predict(afterUpdate, [photos[2]!], { top: 3 });
        expect(second.versionId).toBe(2);
        expect(second.predictions[0]!.top.map((entry) => entry.className)).toContain('Motorbikes');
        expect(predictor.loads).toBe(2);
        rollback(afterUpdate, 1);
        const rolledBack = await predictor.predict(afterUpdate, [photos[2]!], { top: 3 });
        expect(rolledBack.versionId).toBe(1);
        expect(rolledBack.predictions[0]!.top.map((entry) => entry.className)).not.toContain('Motorbikes');
        expect(predictor.loads).toBe(3);
        await predictor.close();
        await predictor.predict(afterUpdate, [photos[0]!], { top: 3 });
        expect(predictor.loads).toBe(4);

        // A camera frame's embedding is not kept (keepEmbeddings: false); a picked photo's is.
        const frame = path.join(CALTECH_DIR, 'test', 'ketch', readdirSync(path.join(CALTECH_DIR, 'test', 'ketch')).sort()[1]!);
        const before = cachedEmbeddings(root);
        const live = await predictor.predict(afterUpdate, [frame], { top: 3, keepEmbeddings: false });
        expect(live.predictions[0]!.top[0]!.className).toBe('ketch');
        expect(cachedEmbeddings(root)).toBe(before);
        await predictor.predict(afterUpdate, [frame], { top: 3 });
        expect(cachedEmbeddings(root)).toBe(before + 1);
      } finally {
        afterUpdate.close();
      }
    } finally {
      await predictor.close();
    }
  });
});
