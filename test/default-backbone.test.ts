// The default backbone: int8 on a CPU, its float twin where a GPU runs it, chosen once per
// project and saved; a project made before backbones were saved stays on its head's backbone.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { findCatalogEntry, loadCatalog } from '../main/engine/backbones/catalog.js';
import { chooseDefaultBackbone, probeGpu } from '../main/engine/backbones/default-choice.js';
import { openSession } from '../main/engine/runtime/devices.js';
import { GraphBuilder } from '../main/engine/onnx/graph-builder.js';
import { Project, type ProjectOptions } from '../main/engine/project/project.js';
import { runPredict } from '../main/engine/use-cases/predict.js';
import { runUpdate } from '../main/engine/use-cases/update.js';
import { CALTECH_DIR, CORAL_DIR } from './support/paths.js';
import { addCaltechClasses, tempDir, TEST_CACHE_DIR } from './support/project.js';

const INT8 = 'mobilenet-v2-1.0-224-quant-int8';
const FLOAT = 'mobilenet-v2-1.0-224-quant';
const open = (root: string, extra: Partial<ProjectOptions> = {}) =>
  Project.open({ root, modelDir: CORAL_DIR, cacheDir: TEST_CACHE_DIR, device: 'cpu', ...extra });

async function update(root: string, extra: Partial<ProjectOptions> = {}) {
  const project = open(root, extra);
  try {
    return await runUpdate(project);
  } finally {
    project.close();
  }
}

function savedSettings(root: string): Record<string, unknown> {
  const db = new Database(path.join(root, '.keizoku', 'keizoku.db'), { readonly: true });
  try {
    const row = db.prepare("SELECT value FROM settings WHERE key = 'project'").get() as { value: string };
    return JSON.parse(row.value);
  } finally {
    db.close();
  }
}

const testPhoto = (className: string) => {
  const dir = path.join(CALTECH_DIR, 'test', className);
  return path.join(dir, readdirSync(dir).sort()[0]!);
};

describe('the default backbone', () => {
  it('is the int8 import, whose float twin is the same file', () => {
    const catalog = loadCatalog();
    expect(catalog.default).toBe(INT8);
    const entry = findCatalogEntry(INT8)!;
    expect(entry.precision).toBe('int8');
    expect(entry.floatTwin).toBe(FLOAT);
    expect(findCatalogEntry(FLOAT)!.sha256).toBe(entry.sha256);
  });

  it('is int8 on the CPU, the float twin on an explicitly chosen GPU, and follows the real probe under auto', async () => {
    expect((await chooseDefaultBackbone('cpu')).id).toBe(INT8);
    expect((await chooseDefaultBackbone('cuda')).id).toBe(FLOAT);
    expect((await chooseDefaultBackbone('webgpu')).id).toBe(FLOAT);
    // The probe agrees with what a session on `auto` actually gets on this machine.
    const graph = new GraphBuilder('probe_check');
    graph.addOutput(graph.addNode('Identity', [graph.addInput('x', 'float32', [1])], {}, { output: 'y' }), 'float32', [1]);
    const { session, report } = await openSession(graph.toBytes(), 'auto', { intraOp: 1, interOp: 1 });
    await session.release();
    const onGpu = report.device !== 'cpu';
    expect(await probeGpu('auto')).toBe(onGpu);
    expect((await chooseDefaultBackbone('auto')).id).toBe(onGpu ? FLOAT : INT8);
  });

  it('is saved at a new project’s first update, and its versions are int8', async () => {
    const root = tempDir('keizoku-default-new-');
    addCaltechClasses(root, ['ketch', 'watch'], { limit: 6 });
    const result = await update(root);
    expect(result.status).toBe('committed');
    expect(result.version.backbone).toBe(INT8);
    expect(result.device).toMatchObject({ device: 'cpu' });
    expect(savedSettings(root).backbone).toBe(INT8);
  }, 120_000);

  it('keeps a project made before backbones were saved on its head’s float backbone: no re-embedding, predict works', async () => {
    const root = tempDir('keizoku-default-old-');
    addCaltechClasses(root, ['ketch', 'watch'], { limit: 6 });
    expect((await update(root, { backbone: FLOAT })).version.backbone).toBe(FLOAT);
    // What an older Keizoku saved: the settings without a backbone (the catalog default was float).
    const db = new Database(path.join(root, '.keizoku', 'keizoku.db'));
    const { backbone: _dropped, ...older } = JSON.parse((db.prepare("SELECT value FROM settings WHERE key = 'project'").get() as { value: string }).value);
    db.prepare("UPDATE settings SET value = ? WHERE key = 'project'").run(JSON.stringify(older));
    db.close();
    expect(savedSettings(root).backbone).toBeUndefined();

    const project = open(root);
    try {
      expect(project.settings.backbone).toBe(FLOAT);
      const predicted = await runPredict(project, [testPhoto('ketch')]);
      expect(predicted.predictions[0]!.top[0]!.className).toBe('ketch');
    } finally {
      project.close();
    }
    addCaltechClasses(root, ['wrench'], { limit: 6 });
    const next = await update(root);
    expect(next.version.backbone).toBe(FLOAT);
    expect(next.samples.embedded).toBe(6); // only the new class's photos
    expect(savedSettings(root).backbone).toBe(FLOAT);
  }, 120_000);

  it('fine-tunes an int8 project through its float twin’s split', async () => {
    const project = open(tempDir('keizoku-default-finetune-'), { backbone: INT8, learner: 'finetune' });
    try {
      const backbone = await project.backbone();
      expect(backbone.key).toBe(`${FLOAT}@expanded_conv_15-add`);
      expect(backbone.fineTuning).toBeDefined();
      expect(backbone.precision).toBeUndefined();
      expect((await project.backbone('analytic')).key).toBe(INT8);
    } finally {
      project.close();
    }
  }, 120_000);
});
