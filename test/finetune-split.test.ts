// The fine-tuning groundwork on the real default backbone: split at the cut before the last
// inverted-residual block, the frozen bottom and the trainable top compute exactly what the whole
// model does, and the cut's activation survives uint8 caching with per-channel offset and scale.
import { readFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveBackbone, type ResolvedBackbone } from '../main/engine/backbones/resolve.js';
import { decodeActivation, encodeActivation } from '../main/engine/finetune/activation-codec.js';
import { BackboneSplitError, MOBILENET_V2_DEFAULT_CUT, splitBackbone } from '../main/engine/finetune/backbone-split.js';
import { preprocessImage } from '../main/engine/images/preprocess.js';
import { CORAL_DIR } from './support/paths.js';
import { TEST_CACHE_DIR } from './support/project.js';
import { photo } from './reliability/support/state.js';

let backbone: ResolvedBackbone;
let model: onnxProto.onnx.ModelProto;
let pixels: ort.Tensor;
const PHOTOS = [photo('ketch', 0), photo('airplanes', 1), photo('chair', 2), photo('bonsai', 3)];

const session = (m: onnxProto.onnx.ModelProto) =>
  ort.InferenceSession.create(onnxProto.onnx.ModelProto.encode(m).finish(), { intraOpNumThreads: 2, interOpNumThreads: 1 });

beforeAll(async () => {
  backbone = await resolveBackbone('mobilenet-v2-1.0-224-quant', { cacheDir: TEST_CACHE_DIR, mirrorDir: CORAL_DIR, allowDownload: false });
  model = onnxProto.onnx.ModelProto.decode(readFileSync(backbone.onnxPath));
  const { height, width } = backbone.preprocessing;
  const data = new Float32Array(PHOTOS.length * 3 * height * width);
  for (const [i, file] of PHOTOS.entries()) {
    const prepared = await preprocessImage(readFileSync(file), backbone.preprocessing);
    if (!prepared.ok) throw new Error(prepared.reason);
    data.set(prepared.pixels, i * 3 * height * width);
  }
  pixels = new ort.Tensor('float32', data, [PHOTOS.length, 3, height, width]);
});

describe('backbone split for fine-tuning', () => {
  it('bottom then top gives the whole model’s features; the cut is 160×7×7', async () => {
    const split = splitBackbone(model, { inputName: backbone.inputName, featuresName: backbone.featuresName, cut: MOBILENET_V2_DEFAULT_CUT });
    const whole = await ort.InferenceSession.create(backbone.onnxPath, { intraOpNumThreads: 2, interOpNumThreads: 1 });
    const bottom = await session(split.bottom);
    const top = await session(split.top);
    try {
      const expected = (await whole.run({ [backbone.inputName]: pixels }))[backbone.featuresName]!.data as Float32Array;
      const cut = (await bottom.run({ [backbone.inputName]: pixels }))[MOBILENET_V2_DEFAULT_CUT]!;
      expect(cut.dims).toEqual([PHOTOS.length, 160, 7, 7]);
      const features = (await top.run({ [MOBILENET_V2_DEFAULT_CUT]: cut }))[backbone.featuresName]!.data as Float32Array;
      expect(features.length).toBe(expected.length);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(features[i]! - expected[i]!));
      expect(worst).toBeLessThan(1e-5);
      // The top is the last block and the last 1×1 conv: small enough to train on a laptop.
      expect(split.topNodes.filter((node) => node.opType === 'Conv')).toHaveLength(4);
    } finally {
      await Promise.all([whole.release(), bottom.release(), top.release()]);
    }
  });

  it('caches the cut as uint8 per channel (9.1 KB a sample) with features within 1 % of the float path', async () => {
    const split = splitBackbone(model, { inputName: backbone.inputName, featuresName: backbone.featuresName, cut: MOBILENET_V2_DEFAULT_CUT });
    const bottom = await session(split.bottom);
    const top = await session(split.top);
    try {
      const cut = (await bottom.run({ [backbone.inputName]: pixels }))[MOBILENET_V2_DEFAULT_CUT]!;
      const perSample = 160 * 7 * 7;
      const values = cut.data as Float32Array;
      const restored = new Float32Array(values.length);
      for (let n = 0; n < PHOTOS.length; n++) {
        const bytes = encodeActivation(values.subarray(n * perSample, (n + 1) * perSample), 160, 7, 7);
        expect(bytes.byteLength).toBe(12 + 160 * 8 + perSample); // 9,132 bytes against 31,360 as float32
        const decoded = decodeActivation(bytes);
        expect([decoded.channels, decoded.height, decoded.width]).toEqual([160, 7, 7]);
        restored.set(decoded.values, n * perSample);
      }
      const run = async (data: Float32Array) =>
        (await top.run({ [MOBILENET_V2_DEFAULT_CUT]: new ort.Tensor('float32', data, cut.dims) }))[backbone.featuresName]!.data as Float32Array;
      const exact = await run(values);
      const cached = await run(restored);
      for (let n = 0; n < PHOTOS.length; n++) {
        const a = exact.subarray(n * backbone.featureDim, (n + 1) * backbone.featureDim);
        const b = cached.subarray(n * backbone.featureDim, (n + 1) * backbone.featureDim);
        let dot = 0, na = 0, nb = 0;
        for (let i = 0; i < a.length; i++) (dot += a[i]! * b[i]!), (na += a[i]! ** 2), (nb += b[i]! ** 2);
        expect(dot / Math.sqrt(na * nb)).toBeGreaterThan(0.99);
      }
    } finally {
      await Promise.all([bottom.release(), top.release()]);
    }
  });

  it('refuses a cut that a residual connection skips over, and names that are not tensors', () => {
    // Inside block 15 the residual input (block 14's output) is read again after the cut.
    const inside = 'MobilenetV2/expanded_conv_15/project/add_fold';
    expect(() => splitBackbone(model, { inputName: backbone.inputName, featuresName: backbone.featuresName, cut: inside })).toThrow(/reading MobilenetV2\/expanded_conv_14\/add/);
    expect(() => splitBackbone(model, { inputName: backbone.inputName, featuresName: backbone.featuresName, cut: 'nope' })).toThrow(BackboneSplitError);
  });
});
