// The default backbone resolved for fine-tuning, on the real model and real photos: the bottom,
// read by the product's feature extractor, gives each sample's cut activation as C·H·W floats in
// [C, H, W] order, and the top turns those into the whole backbone's features. A project whose
// learner fine-tunes embeds cut activations and caches them quantized, under a key of their own.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toApiError } from '../main/engine/api/error-codes.js';
import { findCatalogEntry } from '../main/engine/backbones/catalog.js';
import { NotFineTunableError, resolveBackbone, type BackboneSources, type ResolvedBackbone } from '../main/engine/backbones/resolve.js';
import { createOnnxFeatureExtractor } from '../main/engine/embedding/index.js';
import { MOBILENET_V2_DEFAULT_CUT } from '../main/engine/finetune/backbone-split.js';
import { loadBackboneTop } from '../main/engine/finetune/backbone-top.js';
import { preprocessImage } from '../main/engine/images/preprocess.js';
import { learnerTrainsBackboneTop } from '../main/engine/learners/index.js';
import { Project } from '../main/engine/project/project.js';
import { FeatureRuntime } from '../main/engine/runtime/feature-runtime.js';
import { syncSamples } from '../main/engine/use-cases/sample-sync.js';
import { CORAL_DIR, REFERENCE_ONNX } from './support/paths.js';
import { addCaltechClasses, TEST_CACHE_DIR, tempDir } from './support/project.js';
import { photo } from './reliability/support/state.js';

const SOURCES: BackboneSources = { cacheDir: TEST_CACHE_DIR, mirrorDir: CORAL_DIR, allowDownload: false };
const PHOTOS = [photo('ketch', 0), photo('chair', 2), photo('bonsai', 3)];
const ONE_THREAD = { intraOpNumThreads: 1, interOpNumThreads: 1 };

let whole: ResolvedBackbone;
let split: ResolvedBackbone;
const sessions: ort.InferenceSession[] = [];

async function open(model: string | Uint8Array): Promise<ort.InferenceSession> {
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, ONE_THREAD) : await ort.InferenceSession.create(model, ONE_THREAD);
  sessions.push(session);
  return session;
}

/** Normalized CHW pixels of `files`, one image after another. */
async function pixelsOf(files: readonly string[], backbone: ResolvedBackbone): Promise<Float32Array> {
  const { height, width } = backbone.preprocessing;
  const data = new Float32Array(files.length * 3 * height * width);
  for (const [i, file] of files.entries()) {
    const prepared = await preprocessImage(readFileSync(file), backbone.preprocessing);
    if (!prepared.ok) throw new Error(prepared.reason);
    data.set(prepared.pixels, i * 3 * height * width);
  }
  return data;
}

beforeAll(async () => {
  // The default is the int8 import; it fine-tunes through its float twin, whose whole graph is the reference.
  whole = await resolveBackbone('mobilenet-v2-1.0-224-quant', SOURCES);
  split = await resolveBackbone(undefined, SOURCES, { fineTuning: true });
});

afterAll(async () => {
  await Promise.all(sessions.map((session) => session.release()));
});

describe('the default backbone resolved for fine-tuning', () => {
  it('bottom (through the product’s extractor) then top gives the whole backbone’s features', async () => {
    const pixels = await pixelsOf(PHOTOS, whole);
    const { height, width } = whole.preprocessing;
    const expected = (await (await open(whole.onnxPath)).run({ [whole.inputName]: new ort.Tensor('float32', pixels, [PHOTOS.length, 3, height, width]) }))[whole.featuresName]!;

    const extractor = createOnnxFeatureExtractor(await open(split.onnxPath), { inputName: split.inputName, featuresName: split.featuresName }, split.featureDim, split.preprocessing);
    const activations = await extractor.run(pixels, PHOTOS.length);
    expect(activations.length).toBe(PHOTOS.length * 160 * 7 * 7);

    const top = loadBackboneTop(split)!;
    expect(top).toMatchObject({ input: MOBILENET_V2_DEFAULT_CUT, output: whole.featuresName, cutShape: [160, 7, 7], featureDim: 1280 });
    // The extractor's rows are read back as [N, C, H, W]: only the right layout reproduces the features.
    const cut = new ort.Tensor('float32', activations, [PHOTOS.length, ...top.cutShape]);
    const features = (await (await open(top.model)).run({ [top.input]: cut }))[top.output]!;
    expect(features.dims).toEqual(expected.dims);
    const want = expected.data as Float32Array;
    const got = features.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThan(1e-4);
  });

  it('is split once beside the imported model, with the cut’s shape recorded, under a key of its own', async () => {
    expect(findCatalogEntry('mobilenet-v2-1.0-224-quant')?.fineTuneCut).toBe(MOBILENET_V2_DEFAULT_CUT);
    expect(split).toMatchObject({
      key: 'mobilenet-v2-1.0-224-quant@expanded_conv_15-add',
      inputName: whole.inputName,
      featuresName: MOBILENET_V2_DEFAULT_CUT,
      featureDim: 160 * 7 * 7,
      preprocessing: whole.preprocessing,
      fineTuning: { cut: MOBILENET_V2_DEFAULT_CUT, cutShape: [160, 7, 7], topInput: MOBILENET_V2_DEFAULT_CUT, topOutput: whole.featuresName, topFeatureDim: 1280 },
    });
    expect(split.key).not.toBe(whole.key);
    expect(split.probabilitiesName).toBeUndefined();
    expect(whole.fineTuning).toBeUndefined();
    expect(path.dirname(split.onnxPath)).toBe(path.dirname(whole.onnxPath));
    expect(path.dirname(split.fineTuning!.topPath)).toBe(path.dirname(whole.onnxPath));
    const meta = JSON.parse(readFileSync(split.onnxPath.replace(/\.bottom\.onnx$/, '.json'), 'utf8'));
    expect(meta).toMatchObject({ cut: MOBILENET_V2_DEFAULT_CUT, cutShape: [160, 7, 7] });

    const mtimes = [split.onnxPath, split.fineTuning!.topPath].map((file) => statSync(file).mtimeMs);
    const again = await resolveBackbone(undefined, SOURCES, { fineTuning: true });
    expect(again).toEqual(split);
    expect([again.onnxPath, again.fineTuning!.topPath].map((file) => statSync(file).mtimeMs)).toEqual(mtimes);
  });

  it('refuses a backbone without a cut and a user’s ONNX file, before importing anything', async () => {
    const cacheDir = tempDir('keizoku-finetune-cache-');
    const refused = resolveBackbone('mobilenet-v1-0.25-128-quant', { cacheDir, mirrorDir: CORAL_DIR, allowDownload: false }, { fineTuning: true });
    await expect(refused).rejects.toThrow(NotFineTunableError);
    await expect(refused).rejects.toThrow(/'mobilenet-v1-0.25-128-quant' cannot be fine-tuned.*mobilenet-v2-1.0-224-quant/);
    expect(readdirSync(cacheDir)).toEqual([]);
    const error = await resolveBackbone(REFERENCE_ONNX, { cacheDir }, { fineTuning: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotFineTunableError);
    expect(toApiError(error)).toMatchObject({ code: 'usage', message: expect.stringMatching(/ONNX file cannot be fine-tuned/) });
    expect(loadBackboneTop(whole)).toBeUndefined();
  });
});

describe('a project whose learner fine-tunes', () => {
  it('resolves the split backbone and caches each photo’s cut activation quantized (9,132 bytes)', async () => {
    expect(learnerTrainsBackboneTop('finetune')).toBe(true);
    for (const id of ['analytic', 'ncm', 'replay']) expect(learnerTrainsBackboneTop(id)).toBe(false);
    const root = tempDir();
    const files = addCaltechClasses(root, ['ketch', 'chair'], { limit: 2 });
    const options = { root, cacheDir: TEST_CACHE_DIR, modelDir: CORAL_DIR, allowDownload: false };
    const plain = Project.open({ ...options, learner: 'analytic' });
    try {
      expect((await plain.backbone()).key).toBe('mobilenet-v2-1.0-224-quant-int8');
    } finally {
      plain.close();
    }

    const project = Project.open({ ...options, learner: 'finetune' });
    const backbone = await project.backbone();
    const runtime = new FeatureRuntime(backbone, 'cpu');
    try {
      expect(backbone.key).toBe(split.key);
      const sync = await syncSamples(project, runtime);
      expect(sync).toMatchObject({ files: 4, embedded: 4, fromCache: 0, failed: [] });
      const rows = project.store.db.prepare('SELECT backbone, encoding, dim, length(vector) AS bytes FROM embeddings').all();
      expect(rows).toEqual(Array.from({ length: 4 }, () => ({ backbone: split.key, encoding: 'activation-u8', dim: 7840, bytes: 12 + 160 * 8 + 7840 })));

      // What the store gives back is the activation within the codec's error: half a step per channel.
      const samples = project.store.samples.all().sort((a, b) => files.indexOf(path.join(root, a.relPath)) - files.indexOf(path.join(root, b.relPath)));
      const cached = project.store.embeddings.matrix(samples.map((sample) => sample.contentHash!), backbone.key, backbone.featureDim);
      const exact = await runtime.extractor.run(await pixelsOf(files, backbone), files.length);
      const plane = 7 * 7;
      for (let channel = 0; channel < files.length * 160; channel++) {
        const values = exact.subarray(channel * plane, (channel + 1) * plane);
        const step = (Math.max(...values) - Math.min(...values)) / 255;
        for (let i = 0; i < plane; i++) expect(Math.abs(cached[channel * plane + i]! - values[i]!)).toBeLessThanOrEqual(step / 2 + 1e-5);
      }
      expect(existsSync(backbone.fineTuning!.topPath)).toBe(true);
    } finally {
      await runtime.close();
      project.close();
    }
  });
});
