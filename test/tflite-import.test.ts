// The TFLite importer against the real Coral models, run in a real onnxruntime-node session.
import { readFileSync } from 'node:fs';
import { Builder } from 'flatbuffers';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { TfliteFormatError, importTflite, type ImportedBackbone } from '../main/engine/backbones/tflite/index.js';
import { readModel } from '../main/engine/backbones/tflite/schema.js';
import { findCatalogEntry } from '../main/engine/backbones/catalog.js';
import { IMAGES, agreement, argmax, imageBatch, labelOf, modelBytes, rows, topK } from './support/coral.js';
import { REFERENCE_ONNX } from './support/paths.js';

// TFLite enum values used by the synthetic models below.
const SAME = 0;
const VALID = 1;
const RELU = 1;
const RELU_N1_TO_1 = 2;
const RELU6 = 3;

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2, interOpNumThreads: 1 };

async function run(backbone: ImportedBackbone, input: ort.Tensor): Promise<ort.InferenceSession.ReturnType> {
  const session = await ort.InferenceSession.create(backbone.onnx, SESSION_OPTIONS);
  return session.run({ [backbone.inputName]: input });
}

describe('mobilenet_v2_1.0_224_quant (uint8, per-tensor)', () => {
  let backbone: ImportedBackbone;
  let input: ort.Tensor;
  let outputs: ort.InferenceSession.ReturnType;

  beforeAll(async () => {
    const bytes = modelBytes('mobilenet_v2_1.0_224_quant.tflite');
    backbone = importTflite(bytes, { modelName: 'mobilenet_v2_1.0_224_quant.tflite' });
    input = await imageBatch(224, backbone.inputQuantization!);
    outputs = await run(backbone, input);
  });

  it('describes the model', () => {
    expect(backbone).toMatchObject({
      inputName: 'input',
      featuresName: 'features',
      logitsName: 'logits',
      probabilitiesName: 'probabilities',
      inputSize: { height: 224, width: 224 },
      featureDim: 1280,
      inputQuantization: { scale: 0.0078125, zeroPoint: 128 }, // (q - 128) / 128
    });
  });

  it('classifies the sample images (batch of 4 through a batch-1 model)', () => {
    expect(outputs.features!.dims).toEqual([4, 1280]);
    expect(outputs.logits!.dims).toEqual([4, 1001]);
    expect(rows(outputs.logits!).map((l) => labelOf(argmax(l)))).toEqual(['chickadee', 'Egyptian cat', 'military uniform', 'dragonfly']);
    // probabilities are the softmax of the logits
    for (const p of rows(outputs.probabilities!)) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  });

  it('agrees with the float reference ONNX export', async () => {
    const reference = await ort.InferenceSession.create(REFERENCE_ONNX, SESSION_OPTIONS);
    const ref = await reference.run({ input });
    const features = agreement(outputs.features!, ref.features!);
    const probabilities = agreement(outputs.probabilities!, ref.output!);
    // Measured on this machine: both exactly equal (max abs diff 0, cosine 1): the reference is the
    // same dequantized float graph. The bounds leave room for other CPUs picking other ORT kernels
    // (features reach ~5.1, so 1e-3 absolute is 2e-4 of their range).
    expect(features.maxAbsDiff).toBeLessThan(1e-3);
    expect(features.maxRelToRange).toBeLessThan(1e-3);
    expect(features.minCosine).toBeGreaterThan(0.99999);
    expect(probabilities.maxAbsDiff).toBeLessThan(1e-4);
    expect(probabilities.minCosine).toBeGreaterThan(0.99999);
  });

  it('takes the feature tensor by name, pooling a spatial map', async () => {
    // The 7x7x1280 map that feeds the average pool: pooled globally it is the same feature vector.
    const model = readModel(modelBytes('mobilenet_v2_1.0_224_quant.tflite'));
    const graph = model.subgraphs[0]!;
    const pool = graph.operators.find((op) => model.operatorCodes[op.opcodeIndex]!.builtinCode === 1 /* AVERAGE_POOL_2D */)!;
    const mapName = graph.tensors[pool.inputs[0]!]!.name;
    const custom = importTflite(modelBytes('mobilenet_v2_1.0_224_quant.tflite'), { featureTensor: mapName });
    expect(custom.featureDim).toBe(1280);
    const out = await run(custom, input);
    expect(agreement(out.features!, outputs.features!).maxAbsDiff).toBeLessThan(1e-5);

    expect(() => importTflite(modelBytes('mobilenet_v2_1.0_224_quant.tflite'), { featureTensor: 'no/such/tensor' })).toThrow(
      /feature tensor 'no\/such\/tensor' not found/,
    );
  });

  it('appends feature taps: pooled, each block L2-normalized, concatenated after the main features', async () => {
    // The catalog's taps entry: the 7×7×320 output of the last block (named by its first segment)
    // and the 14×14×96 output of block 12 (a residual ADD).
    const entry = findCatalogEntry('mobilenet-v2-1.0-224-quant-taps')!;
    const tapped = importTflite(modelBytes(entry.fileName), { featureTensor: entry.featureTensor, featureTaps: entry.featureTaps! });
    expect(tapped.featureDim).toBe(1280 + 320 + 96);
    expect(tapped.featureDim).toBe(entry.featureDim);
    expect(tapped.logitsName).toBe('logits'); // the classifier is still found after the main features
    const out = await run(tapped, input);
    expect(out.features!.dims).toEqual([IMAGES.length, 1696]);
    const plain = rows(outputs.features!);
    rows(out.features!).forEach((row, i) => {
      const blocks = [row.subarray(0, 1280), row.subarray(1280, 1600), row.subarray(1600)];
      for (const block of blocks) expect(Math.hypot(...block)).toBeCloseTo(1, 5);
      // The first block is the usual feature vector, normalized: same direction.
      const main = plain[i]!;
      const norm = Math.hypot(...main);
      for (let k = 0; k < 1280; k++) expect(Math.abs(blocks[0]![k]! - main[k]! / norm)).toBeLessThan(1e-5);
      // The taps carry something else than the main block (not a copy, not zero).
      expect(Math.max(...blocks[2]!.map(Math.abs))).toBeGreaterThan(0.01);
    });
    expect(() => importTflite(modelBytes(entry.fileName), { featureTaps: ['no/such/tensor'] })).toThrow(/feature tap 'no\/such\/tensor' not found/);
  });
});

describe('the other catalog models', () => {
  it('mobilenet_v1_1.0_224_quant_embedding_extractor: the output is the 1024-d feature', async () => {
    const backbone = importTflite(modelBytes('mobilenet_v1_1.0_224_quant_embedding_extractor.tflite'));
    expect(backbone.featureDim).toBe(1024);
    expect(backbone.logitsName).toBeUndefined();
    expect(backbone.probabilitiesName).toBeUndefined();
    expect(backbone.inputSize).toEqual({ height: 224, width: 224 });
    const out = await run(backbone, await imageBatch(224, backbone.inputQuantization!));
    expect(out.features!.dims).toEqual([4, 1024]);
    const features = rows(out.features!);
    // Average of ReLU6 activations: inside [0, 6], and different images give different embeddings.
    for (const f of features) for (const x of f) expect(x >= 0 && x <= 6).toBe(true);
    const cosine = (a: Float32Array, b: Float32Array) =>
      a.reduce((s, x, i) => s + x * b[i]!, 0) / Math.sqrt(a.reduce((s, x) => s + x * x, 0) * b.reduce((s, x) => s + x * x, 0));
    expect(cosine(features[0]!, features[3]!)).toBeLessThan(0.95);
  });

  it('mobilenet_v1_0.25_128_quant: 128x128 input, 256-d features, 1001 classes', async () => {
    const backbone = importTflite(modelBytes('mobilenet_v1_0.25_128_quant.tflite'));
    expect(backbone).toMatchObject({ featureDim: 256, inputSize: { height: 128, width: 128 }, logitsName: 'logits' });
    const out = await run(backbone, await imageBatch(128, backbone.inputQuantization!));
    expect(out.features!.dims).toEqual([4, 256]);
    expect(out.logits!.dims).toEqual([4, 1001]);
    const [bird, cat, hopper] = rows(out.logits!);
    // This tiny model (~40% top-1) is genuinely less sure: 'bird' is a chickadee, 'cat' lands among
    // the cat classes (Egyptian cat and tiger cat swap with the resize kernel), and Grace Hopper is an
    // 'academic gown' with 'military uniform' in its top 5. 'dragonfly' comes out as 'tiger beetle'.
    // An integer-rounding simulation of the quantized graph gives the same labels, so these are the
    // model's answers, not conversion error; only what holds is asserted.
    expect(labelOf(argmax(bird!))).toBe('chickadee');
    expect(['Egyptian cat', 'tiger cat', 'tabby']).toContain(labelOf(argmax(cat!)));
    expect(topK(cat!, 3).map(labelOf)).toContain('Egyptian cat');
    expect(topK(hopper!, 5).map(labelOf)).toContain('military uniform');
  });

  it('tf2_mobilenet_v2_1.0_224_ptq: int8 per-channel weights behind a QUANTIZE input', async () => {
    const backbone = importTflite(modelBytes('tf2_mobilenet_v2_1.0_224_ptq.tflite'));
    expect(backbone).toMatchObject({ featureDim: 1280, logitsName: 'logits', probabilitiesName: 'probabilities' });
    expect(backbone.inputQuantization!.zeroPoint).toBe(127); // real = (q - 127) * 0.0078431
    expect(backbone.inputQuantization!.scale).toBeCloseTo(0.0078431, 6);
    const out = await run(backbone, await imageBatch(224, backbone.inputQuantization!));
    expect(rows(out.logits!).map((l) => labelOf(argmax(l)))).toEqual(['chickadee', 'Egyptian cat', 'military uniform', 'dragonfly']);
  });
});

describe('bad input', () => {
  const v1Small = () => modelBytes('mobilenet_v1_0.25_128_quant.tflite');

  it('rejects files that are not TFLite models', () => {
    expect(() => importTflite(new Uint8Array())).toThrow(TfliteFormatError);
    expect(() => importTflite(new Uint8Array(1000).map((_, i) => (i * 7919) % 251))).toThrow(/not a TFLite model/);
    expect(() => importTflite(new Uint8Array(readFileSync(REFERENCE_ONNX)))).toThrow(/not a TFLite model/);
  });

  it('reports truncation instead of reading past the end', () => {
    // The embedding extractor is pure flatbuffer; the classifier files end in an appended zip with
    // imagenet_labels.txt (TFLite metadata), so cutting their tail leaves the model itself intact.
    const bytes = modelBytes('mobilenet_v1_1.0_224_quant_embedding_extractor.tflite');
    expect(() => importTflite(bytes.subarray(0, bytes.length >> 1))).toThrow(/corrupt or truncated TFLite file/);
    for (const fraction of [0.001, 0.01, 0.1, 0.3, 0.7, 0.9, 0.99, 0.9999]) {
      expect(() => importTflite(bytes.subarray(0, Math.floor(bytes.length * fraction)))).toThrow(TfliteFormatError);
    }
  });

  it('fails cleanly (an Error, never a crash or hang) on corrupted bytes', () => {
    const original = v1Small();
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 30; trial++) {
      const bytes = original.slice();
      // Corrupt the flatbuffer structure (first few KB hold the tables), not just weight bytes.
      for (let k = 0; k < 8; k++) bytes[Math.floor(random() * 4096)] = Math.floor(random() * 256);
      try {
        importTflite(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
      }
    }
  });

  it('names the op it cannot convert', () => {
    const bytes = writeTflite({
      tensors: [{ name: 'x', shape: [1, 2, 2, 3] }, { name: 'y', shape: [1, 2, 2, 3] }],
      operators: [{ code: 14 /* LOGISTIC */, inputs: [0], outputs: [1] }],
      inputs: [0],
      outputs: [1],
    });
    expect(() => importTflite(bytes, { modelName: 'logistic.tflite' })).toThrow('unsupported TFLite op LOGISTIC in logistic.tflite');
  });
});

// ---------------------------------------------------------------------------------------------
// Ops the catalog models do not use, on a synthetic float model checked against a plain NHWC
// implementation of the TFLite semantics.

describe('synthetic float model', () => {
  const rand = (n: number, seed: number) => {
    let s = seed;
    return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
  };

  // x[1,9,9,3] -> CONV 3x2 /2 SAME relu (asymmetric W padding) -> DEPTHWISE 3x3 m=2 relu6 -> PAD 1
  // -> MAX_POOL 3x3 /2 VALID -> AVERAGE_POOL 3x3 /1 SAME (edge cells average fewer values)
  // -> CONCAT(maxpool, avgpool) -> ADD per-channel const relu_n1_to_1 -> MEAN(H,W keep) -> SQUEEZE
  // -> FULLY_CONNECTED (float16 weights behind DEQUANTIZE) -> SOFTMAX beta 0.5
  const w1 = rand(4 * 3 * 2 * 3, 1);
  const b1 = rand(4, 2);
  const wd = rand(3 * 3 * 8, 3);
  const bd = rand(8, 4);
  const addend = rand(16, 5);
  const wf = rand(5 * 16, 6);
  const bf = rand(5, 7);
  const wfHalf = toFloat16(wf);

  const model = () =>
    writeTflite({
      tensors: [
        { name: 'image', shape: [1, 9, 9, 3] }, // 0
        { name: 'w1', shape: [4, 3, 2, 3], data: w1 }, // 1
        { name: 'b1', shape: [4], data: b1 }, // 2
        { name: 'conv', shape: [1, 5, 5, 4] }, // 3
        { name: 'wd', shape: [1, 3, 3, 8], data: wd }, // 4
        { name: 'bd', shape: [8], data: bd }, // 5
        { name: 'dw', shape: [1, 5, 5, 8] }, // 6
        { name: 'paddings', shape: [4, 2], ints: [0, 0, 1, 1, 1, 1, 0, 0] }, // 7
        { name: 'padded', shape: [1, 7, 7, 8] }, // 8
        { name: 'maxpool', shape: [1, 3, 3, 8] }, // 9
        { name: 'avgpool', shape: [1, 3, 3, 8] }, // 10
        { name: 'concat', shape: [1, 3, 3, 16] }, // 11
        { name: 'addend', shape: [16], data: addend }, // 12
        { name: 'sum', shape: [1, 3, 3, 16] }, // 13
        { name: 'axes', shape: [2], ints: [1, 2] }, // 14
        { name: 'mean', shape: [1, 1, 1, 16] }, // 15
        { name: 'squeezed', shape: [1, 16] }, // 16
        { name: 'wf16', shape: [5, 16], half: wfHalf.bits }, // 17
        { name: 'wf', shape: [5, 16] }, // 18
        { name: 'bf', shape: [5], data: bf }, // 19
        { name: 'scores', shape: [1, 5] }, // 20
        { name: 'probs', shape: [1, 5] }, // 21
      ],
      operators: [
        { code: 3, inputs: [0, 1, 2], outputs: [3], options: [1, (b) => table(b, [[0, 'i8', SAME], [1, 'i32', 2], [2, 'i32', 2], [3, 'i8', RELU]])] },
        { code: 4, inputs: [3, 4, 5], outputs: [6], options: [2, (b) => table(b, [[0, 'i8', SAME], [1, 'i32', 1], [2, 'i32', 1], [3, 'i32', 2], [4, 'i8', RELU6]])] },
        { code: 34, inputs: [6, 7], outputs: [8] },
        { code: 17, inputs: [8], outputs: [9], options: [5, (b) => table(b, [[0, 'i8', VALID], [1, 'i32', 2], [2, 'i32', 2], [3, 'i32', 3], [4, 'i32', 3]])] },
        { code: 1, inputs: [9], outputs: [10], options: [5, (b) => table(b, [[0, 'i8', SAME], [1, 'i32', 1], [2, 'i32', 1], [3, 'i32', 3], [4, 'i32', 3]])] },
        { code: 2, inputs: [9, 10], outputs: [11], options: [10, (b) => table(b, [[0, 'i32', -1]])] },
        { code: 0, inputs: [11, 12], outputs: [13], options: [11, (b) => table(b, [[0, 'i8', RELU_N1_TO_1]])] },
        { code: 40, inputs: [13, 14], outputs: [15], options: [27, (b) => table(b, [[0, 'i8', 1]])] },
        { code: 43, inputs: [15], outputs: [16], options: [30, (b) => table(b, [[0, 'ints', [1, 2]]])] },
        { code: 6, inputs: [17], outputs: [18] },
        { code: 9, inputs: [16, 18, 19], outputs: [20], options: [8, (b) => table(b, [])] },
        { code: 25, inputs: [20], outputs: [21], options: [9, (b) => table(b, [[0, 'f32', 0.5]])] },
      ],
      inputs: [0],
      outputs: [21],
    });

  /** The same network, written directly from the TFLite op definitions (NHWC, one image). */
  function reference(x: Float32Array) {
    const conv = conv2d(x, [9, 9, 3], w1, [4, 3, 2, 3], b1, [2, 2], SAME, 0, RELU);
    const dw = conv2d(conv.data, conv.shape, wd, [1, 3, 3, 8], bd, [1, 1], SAME, 2, RELU6);
    const padded = padNhwc(dw.data, dw.shape, [[1, 1], [1, 1]]);
    const max = pool(padded.data, padded.shape, [3, 3], [2, 2], VALID, 'max');
    const avg = pool(max.data, max.shape, [3, 3], [1, 1], SAME, 'average');
    const [h, w] = max.shape as [number, number, number];
    const concat = new Float32Array(h * w * 16);
    for (let p = 0; p < h * w; p++) {
      concat.set(max.data.subarray(p * 8, p * 8 + 8), p * 16);
      concat.set(avg.data.subarray(p * 8, p * 8 + 8), p * 16 + 8);
    }
    const sum = concat.map((v, i) => Math.min(1, Math.max(-1, v + addend[i % 16]!)));
    const mean = new Float32Array(16);
    for (let i = 0; i < sum.length; i++) mean[i % 16]! += sum[i]! / (h * w);
    const scores = Float32Array.from(bf, (b, o) => mean.reduce((s, v, k) => s + v * wfHalf.values[o * 16 + k]!, b));
    const exp = scores.map((s) => Math.exp(0.5 * s));
    const total = exp.reduce((a, b) => a + b, 0);
    return { mean, scores, probs: exp.map((e) => e / total) };
  }

  it('matches the NHWC reference for a batch of 2', async () => {
    const backbone = importTflite(model(), { modelName: 'synthetic' });
    expect(backbone).toMatchObject({ featureDim: 16, inputSize: { height: 9, width: 9 }, logitsName: 'logits', probabilitiesName: 'probabilities' });
    expect(backbone.inputQuantization).toBeUndefined(); // float input: already real-valued

    const images = [rand(9 * 9 * 3, 11), rand(9 * 9 * 3, 12)]; // NHWC
    const nchw = new Float32Array(2 * 3 * 81);
    images.forEach((img, n) => img.forEach((v, i) => (nchw[n * 243 + (i % 3) * 81 + Math.floor(i / 3)] = v)));
    const out = await run(backbone, new ort.Tensor('float32', nchw, [2, 3, 9, 9]));

    images.forEach((img, n) => {
      const ref = reference(img);
      const close = (t: ort.Tensor, expected: Float32Array) => {
        const row = rows(t)[n]!;
        expect(row.length).toBe(expected.length);
        row.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(1e-5));
      };
      close(out.features!, ref.mean);
      close(out.logits!, ref.scores);
      close(out.probabilities!, ref.probs);
    });
  });

  it('handles MEAN without keep_dims and a plain float FULLY_CONNECTED', async () => {
    const bytes = writeTflite({
      tensors: [
        { name: 'image', shape: [1, 2, 3, 4] },
        { name: 'axes', shape: [2], ints: [2, 1] },
        { name: 'mean', shape: [1, 4] },
        { name: 'w', shape: [2, 4], data: Float32Array.from([1, 2, 3, 4, -1, 0, 1, 0]) },
        { name: 'scores', shape: [1, 2] },
      ],
      operators: [
        { code: 40, inputs: [0, 1], outputs: [2], options: [27, (b) => table(b, [])] },
        { code: 9, inputs: [2, 3, -1], outputs: [4], options: [8, (b) => table(b, [[0, 'i8', RELU]])] },
      ],
      inputs: [0],
      outputs: [4],
    });
    const backbone = importTflite(bytes);
    expect(backbone.featureDim).toBe(4);
    expect(backbone.probabilitiesName).toBeUndefined();
    // NCHW input whose channel c is filled with c - 1.5 everywhere: mean = [-1.5, -0.5, 0.5, 1.5].
    const x = Float32Array.from({ length: 24 }, (_, i) => Math.floor(i / 6) - 1.5);
    const out = await run(backbone, new ort.Tensor('float32', x, [1, 4, 2, 3]));
    expect(Array.from(out.features!.data as Float32Array)).toEqual([-1.5, -0.5, 0.5, 1.5]);
    // relu([1,2,3,4]·mean, [-1,0,1,0]·mean) = relu(5, 2)
    expect(Array.from(out.logits!.data as Float32Array)).toEqual([5, 2]);
  });
});

// ---------------------------------------------------------------------------------------------
// Plain NHWC reference ops (one image, no batch axis)

function samePad(size: number, k: number, s: number): [number, number] {
  const total = Math.max((Math.ceil(size / s) - 1) * s + k - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Regular conv (multiplier 0) with filter [O,kh,kw,I], or depthwise with filter [1,kh,kw,C*m]. */
function conv2d(
  x: Float32Array,
  [h, w, c]: number[],
  filter: Float32Array,
  [o, kh, kw, fi]: number[],
  bias: Float32Array,
  [sh, sw]: number[],
  padding: number,
  depthMultiplier: number,
  activation: number,
) {
  const [top] = padding === SAME ? samePad(h!, kh!, sh!) : [0];
  const [left] = padding === SAME ? samePad(w!, kw!, sw!) : [0];
  const oh = padding === SAME ? Math.ceil(h! / sh!) : Math.floor((h! - kh!) / sh!) + 1;
  const ow = padding === SAME ? Math.ceil(w! / sw!) : Math.floor((w! - kw!) / sw!) + 1;
  const outC = depthMultiplier ? fi! : o!;
  const out = new Float32Array(oh * ow * outC);
  for (let y = 0; y < oh; y++)
    for (let xx = 0; xx < ow; xx++)
      for (let oc = 0; oc < outC; oc++) {
        let acc = bias[oc]!;
        for (let dy = 0; dy < kh!; dy++)
          for (let dx = 0; dx < kw!; dx++) {
            const iy = y * sh! - top! + dy;
            const ix = xx * sw! - left! + dx;
            if (iy < 0 || iy >= h! || ix < 0 || ix >= w!) continue;
            if (depthMultiplier) {
              acc += x[(iy * w! + ix) * c! + Math.floor(oc / depthMultiplier)]! * filter[(dy * kw! + dx) * fi! + oc]!;
            } else {
              for (let ic = 0; ic < c!; ic++) acc += x[(iy * w! + ix) * c! + ic]! * filter[((oc * kh! + dy) * kw! + dx) * fi! + ic]!;
            }
          }
        out[(y * ow + xx) * outC + oc] = activation === 1 ? Math.max(0, acc) : activation === 3 ? Math.min(6, Math.max(0, acc)) : acc;
      }
  return { data: out, shape: [oh, ow, outC] };
}

function padNhwc(x: Float32Array, [h, w, c]: number[], [[pt, pb], [pl, pr]]: [number[], number[]]) {
  const oh = h! + pt! + pb!;
  const ow = w! + pl! + pr!;
  const out = new Float32Array(oh * ow * c!);
  for (let y = 0; y < h!; y++) for (let xx = 0; xx < w!; xx++) for (let k = 0; k < c!; k++) out[((y + pt!) * ow + xx + pl!) * c! + k] = x[(y * w! + xx) * c! + k]!;
  return { data: out, shape: [oh, ow, c!] };
}

/** Pooling; with SAME padding max ignores the padding and average divides by in-bounds cells only. */
function pool(x: Float32Array, [h, w, c]: number[], [kh, kw]: number[], [sh, sw]: number[], padding: number, kind: 'max' | 'average') {
  const [top] = padding === SAME ? samePad(h!, kh!, sh!) : [0];
  const [left] = padding === SAME ? samePad(w!, kw!, sw!) : [0];
  const oh = padding === SAME ? Math.ceil(h! / sh!) : Math.floor((h! - kh!) / sh!) + 1;
  const ow = padding === SAME ? Math.ceil(w! / sw!) : Math.floor((w! - kw!) / sw!) + 1;
  const out = new Float32Array(oh * ow * c!);
  for (let y = 0; y < oh; y++)
    for (let xx = 0; xx < ow; xx++)
      for (let k = 0; k < c!; k++) {
        let acc = kind === 'max' ? -Infinity : 0;
        let count = 0;
        for (let dy = 0; dy < kh!; dy++)
          for (let dx = 0; dx < kw!; dx++) {
            const iy = y * sh! - top! + dy;
            const ix = xx * sw! - left! + dx;
            if (iy < 0 || iy >= h! || ix < 0 || ix >= w!) continue;
            const v = x[(iy * w! + ix) * c! + k]!;
            acc = kind === 'max' ? Math.max(acc, v) : acc + v;
            count++;
          }
        out[(y * ow + xx) * c! + k] = kind === 'max' ? acc : acc / count;
      }
  return { data: out, shape: [oh, ow, c!] };
}

// ---------------------------------------------------------------------------------------------
// A minimal TFLite writer (flatbuffers Builder; field ids as in schema.fbs) for synthetic models.

interface SyntheticTensor {
  name: string;
  shape: number[];
  data?: Float32Array; // FLOAT32 constant
  half?: Uint16Array; // FLOAT16 constant
  ints?: number[]; // INT32 constant
}
interface SyntheticOperator {
  code: number;
  inputs: number[];
  outputs: number[];
  /** [BuiltinOptions union type, writer of the options table] */
  options?: [number, (b: Builder) => number];
}

type Field = [id: number, kind: 'i8' | 'i32' | 'f32', value: number] | [id: number, kind: 'ints', value: number[]];

function int32Vector(b: Builder, values: readonly number[]): number {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]!);
  return b.endVector();
}

function offsetVector(b: Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  return b.endVector();
}

/** An options table from (field id, kind, value) triples. */
function table(b: Builder, fields: Field[]): number {
  const vectors = fields.map((f) => (f[1] === 'ints' ? int32Vector(b, f[2]) : 0));
  b.startObject(8);
  fields.forEach((f, i) => {
    if (f[1] === 'i8') b.addFieldInt8(f[0], f[2], null);
    else if (f[1] === 'i32') b.addFieldInt32(f[0], f[2], null);
    else if (f[1] === 'f32') b.addFieldFloat32(f[0], f[2], null);
    else b.addFieldOffset(f[0], vectors[i]!, 0);
  });
  return b.endObject();
}

function writeTflite(spec: { tensors: SyntheticTensor[]; operators: SyntheticOperator[]; inputs: number[]; outputs: number[] }): Uint8Array {
  const b = new Builder(4096);
  b.startObject(3);
  const buffers = [b.endObject()]; // buffer 0: the empty sentinel every activation points to
  const tensors = spec.tensors.map((t) => {
    const raw = t.data ?? t.half ?? (t.ints ? Int32Array.from(t.ints) : undefined);
    let buffer = 0;
    if (raw) {
      const bytes = b.createByteVector(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength));
      b.startObject(3);
      b.addFieldOffset(0, bytes, 0);
      buffers.push(b.endObject());
      buffer = buffers.length - 1;
    }
    const type = t.half ? 1 : t.ints ? 2 : 0; // FLOAT16, INT32, FLOAT32
    const name = b.createString(t.name);
    const shape = int32Vector(b, t.shape);
    b.startObject(5);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, type, 0);
    b.addFieldInt32(2, buffer, 0);
    b.addFieldOffset(3, name, 0);
    return b.endObject();
  });
  const codes = [...new Set(spec.operators.map((op) => op.code))];
  const operators = spec.operators.map((op) => {
    const options = op.options ? op.options[1](b) : 0;
    const inputs = int32Vector(b, op.inputs);
    const outputs = int32Vector(b, op.outputs);
    b.startObject(5);
    b.addFieldInt32(0, codes.indexOf(op.code), 0);
    b.addFieldOffset(1, inputs, 0);
    b.addFieldOffset(2, outputs, 0);
    if (op.options) {
      b.addFieldInt8(3, op.options[0], 0);
      b.addFieldOffset(4, options, 0);
    }
    return b.endObject();
  });
  const operatorCodes = codes.map((code) => {
    b.startObject(4);
    b.addFieldInt8(0, Math.min(code, 127), 0); // deprecated_builtin_code
    b.addFieldInt32(3, code, 0); // builtin_code
    return b.endObject();
  });
  const subgraphTensors = offsetVector(b, tensors);
  const subgraphInputs = int32Vector(b, spec.inputs);
  const subgraphOutputs = int32Vector(b, spec.outputs);
  const subgraphOperators = offsetVector(b, operators);
  b.startObject(5);
  b.addFieldOffset(0, subgraphTensors, 0);
  b.addFieldOffset(1, subgraphInputs, 0);
  b.addFieldOffset(2, subgraphOutputs, 0);
  b.addFieldOffset(3, subgraphOperators, 0);
  const subgraph = b.endObject();
  const codesVector = offsetVector(b, operatorCodes);
  const subgraphs = offsetVector(b, [subgraph]);
  const buffersVector = offsetVector(b, buffers);
  b.startObject(8);
  b.addFieldInt32(0, 3, 0); // schema version
  b.addFieldOffset(1, codesVector, 0);
  b.addFieldOffset(2, subgraphs, 0);
  b.addFieldOffset(4, buffersVector, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}

/** float32 -> nearest float16 bits (normal range only, enough for weights in [-1, 1]). */
function float16Bits(v: number): number {
  if (v === 0) return 0;
  const sign = v < 0 ? 0x8000 : 0;
  const a = Math.abs(v);
  const exponent = Math.floor(Math.log2(a));
  if (exponent < -14) return sign; // flush tiny values to zero
  const mantissa = Math.round((a / 2 ** exponent - 1) * 1024);
  return mantissa === 1024 ? sign | ((exponent + 16) << 10) : sign | ((exponent + 15) << 10) | mantissa;
}

/** The float16 encoding of `values`, and the float32 values it stands for (what the graph computes with). */
function toFloat16(values: Float32Array): { bits: Uint16Array; values: Float32Array } {
  const bits = Uint16Array.from(values, float16Bits);
  const decoded = Float32Array.from(bits, (h) => {
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    return (h & 0x8000 ? -1 : 1) * (e === 0 ? 2 ** -14 * (m / 1024) : 2 ** (e - 15) * (1 + m / 1024));
  });
  return { bits, values: decoded };
}
