// The int8 import of the default backbone (Coral's quantization-aware MobileNetV2): a QDQ graph that
// ONNX Runtime runs on its integer kernels. Real files, real onnxruntime-node sessions.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { findCatalogEntry } from '../main/engine/backbones/catalog.js';
import { resolveBackbone } from '../main/engine/backbones/resolve.js';
import { symmetricInt8 } from '../main/engine/backbones/tflite/constants.js';
import { importTflite, type ImportedBackbone } from '../main/engine/backbones/tflite/index.js';
import { TensorType } from '../main/engine/backbones/tflite/schema.js';
import { openSession } from '../main/engine/runtime/devices.js';
import { EXPECTED_TOP1, agreement, argmax, imageBatch, labelOf, modelBytes, rows } from './support/coral.js';
import { CORAL_DIR, REFERENCE_ONNX } from './support/paths.js';

const FILE = 'mobilenet_v2_1.0_224_quant.tflite';
// The product's session settings that matter here: level 'all' is what fuses the QDQ groups.
const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
const temp = () => mkdtempSync(path.join(os.tmpdir(), 'keizoku-int8-'));
/** Compare model bytes by digest: expect().toEqual on megabytes walks them one element at a time. */
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function opTypes(backbone: ImportedBackbone): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of onnxProto.onnx.ModelProto.decode(backbone.onnx).graph!.node!) counts.set(node.opType!, (counts.get(node.opType!) ?? 0) + 1);
  return counts;
}

describe('mobilenet_v2_1.0_224_quant imported as int8', () => {
  let float: ImportedBackbone;
  let int8: ImportedBackbone;
  let input: ort.Tensor;
  let floatOut: ort.InferenceSession.ReturnType;
  let int8Out: ort.InferenceSession.ReturnType;

  beforeAll(async () => {
    float = importTflite(modelBytes(FILE));
    int8 = importTflite(modelBytes(FILE), { precision: 'int8' });
    input = await imageBatch(224, float.inputQuantization!);
    floatOut = await (await ort.InferenceSession.create(float.onnx, SESSION_OPTIONS)).run({ input });
    int8Out = await (await ort.InferenceSession.create(int8.onnx, SESSION_OPTIONS)).run({ input });
  });

  it('has the float graph’s interface; precision float is the default import, byte for byte', () => {
    const { onnx: _floatBytes, ...floatInterface } = float;
    const { onnx: _int8Bytes, ...int8Interface } = int8;
    expect(int8Interface).toEqual(floatInterface);
    expect(sha256(importTflite(modelBytes(FILE), { precision: 'float' }).onnx)).toBe(sha256(float.onnx));
    expect(int8Out.features!.dims).toEqual([4, 1280]);
    expect(int8Out.features!.type).toBe('float32');
  });

  it('is a QDQ graph: integer weights and activations, no Clip (ReLU6 is the output quantization’s range)', () => {
    const ops = opTypes(int8);
    // 52 convolutions + the classifier: each weight, and each bias, behind a DequantizeLinear
    expect(ops.get('Conv')).toBe(53);
    expect(ops.get('Clip')).toBeUndefined();
    expect(opTypes(float).get('Clip')).toBe(35);
    // input, 53 conv outputs, 10 residual adds, the average pool, the reshaped logits: one Q→DQ each
    expect(ops.get('QuantizeLinear')).toBe(66);
    expect(ops.get('DequantizeLinear')).toBe(66 + 2 * 53);
    const model = onnxProto.onnx.ModelProto.decode(int8.onnx);
    const types = new Set(model.graph!.initializer!.filter((t) => t.name!.endsWith('_quantized')).map((t) => t.dataType));
    expect(types).toEqual(new Set([3 /* INT8 weights */, 6 /* INT32 biases */]));
    // 8-bit weights: about a quarter of the float graph's bytes
    expect(int8.onnx.length).toBeLessThan(float.onnx.length / 3);
  });

  it('keeps the float graph’s ImageNet top-1 on the four Coral images', () => {
    expect(rows(floatOut.logits!).map((l) => labelOf(argmax(l)))).toEqual([...EXPECTED_TOP1]);
    expect(rows(int8Out.logits!).map((l) => labelOf(argmax(l)))).toEqual([...EXPECTED_TOP1]);
  });

  it('gives features close to the float graph’s and the reference ONNX’s', async () => {
    const reference = await (await ort.InferenceSession.create(REFERENCE_ONNX, SESSION_OPTIONS)).run({ input });
    for (const other of [floatOut.features!, reference.features!]) {
      const a = agreement(int8Out.features!, other);
      // Measured (AMD EPYC, AVX-512 VNNI): min cosine 0.9974, max abs diff 0.36 (features reach 5.1,
      // so 7 % of their range). That is integer inference's rounding, which the activations'
      // requantization at every layer adds up; the average pool's own output step is 6/255 = 0.024.
      expect(a.minCosine).toBeGreaterThan(0.995);
      expect(a.maxAbsDiff).toBeLessThan(0.6);
      expect(a.maxRelToRange).toBeLessThan(0.12);
    }
    // Logits: min cosine 0.9972, max abs diff 0.54 (of up to ~20).
    expect(agreement(int8Out.logits!, floatOut.logits!).minCosine).toBeGreaterThan(0.995);
  });

  it('runs on ONNX Runtime’s integer kernels (profile)', async () => {
    const dir = temp();
    const session = await ort.InferenceSession.create(int8.onnx, { ...SESSION_OPTIONS, enableProfiling: true, profileFilePrefix: path.join(dir, 'int8') });
    await session.run({ input });
    session.endProfiling();
    const [file] = readdirSync(dir);
    const events = JSON.parse(readFileSync(path.join(dir, file!), 'utf8')) as Array<{ cat: string; name: string; args?: { op_name?: string } }>;
    const kernels = new Map<string, number>();
    for (const e of events) {
      if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) kernels.set(e.args!.op_name!, (kernels.get(e.args!.op_name!) ?? 0) + 1);
    }
    expect(kernels.get('QLinearConv')).toBe(53);
    expect(kernels.get('QLinearAdd')).toBe(10);
    expect(kernels.get('QLinearGlobalAveragePool')).toBe(1);
    // No float convolution or addition is left; what stays float is the input's QuantizeLinear,
    // the outputs' DequantizeLinear and the softmax.
    for (const floatOp of ['Conv', 'FusedConv', 'Add', 'Clip', 'GlobalAveragePool']) expect(kernels.has(floatOp), floatOp).toBe(false);
    await session.release();
  });
});

describe('symmetric int8 weights', () => {
  it('keeps q - zero_point where it fits in int8 and widens the scale of a channel where it does not', () => {
    // Two output channels of 3 uint8 weights, zero point 100, scale 0.5: channel 0 spans
    // [-100, 27] (exact), channel 1 reaches 255 - 100 = 155 (> 127: scale × 155/127).
    const c = symmetricInt8({ shape: [2, 3], type: TensorType.UINT8, values: Float64Array.from([0, 100, 127, 255, 100, 0]), scale: [0.5], zeroPoint: [100], axis: 0 }, 0);
    const factor = 155 / 127;
    expect(c.type).toBe(TensorType.INT8);
    expect(c.zeroPoint).toEqual([0, 0]);
    expect(c.scale[0]).toBe(0.5);
    expect(c.scale[1]).toBeCloseTo(0.5 * factor, 6);
    expect(Array.from(c.values)).toEqual([-100, 0, 27, 127, 0, Math.round(-100 / factor)]);
  });
});

describe('the int8 catalog variant', () => {
  it('is the default backbone’s file under its own id, cache file and embedding key', async () => {
    const entry = findCatalogEntry('mobilenet-v2-1.0-224-quant-int8')!;
    const base = findCatalogEntry('mobilenet-v2-1.0-224-quant')!;
    expect(entry).toMatchObject({ precision: 'int8', sha256: base.sha256, featureTensor: base.featureTensor, featureDim: base.featureDim });
    expect(base.precision).toBeUndefined();
    expect(entry.fineTuneCut).toBeUndefined(); // fine-tuning trains a float top: the float entry only

    const cacheDir = temp();
    const int8 = await resolveBackbone(entry.id, { cacheDir, mirrorDir: CORAL_DIR });
    const float = await resolveBackbone(base.id, { cacheDir, mirrorDir: CORAL_DIR });
    expect(int8).toMatchObject({ key: entry.id, precision: 'int8', featureDim: 1280, preprocessing: float.preprocessing });
    expect(float.key).toBe(base.id);
    expect(float.precision).toBeUndefined();
    expect(int8.onnxPath).not.toBe(float.onnxPath);
    expect(sha256(readFileSync(float.onnxPath))).toBe(sha256(importTflite(modelBytes(FILE)).onnx));
  });

  it('runs on the CPU whatever device is asked, and says why', async () => {
    const int8 = await resolveBackbone('mobilenet-v2-1.0-224-quant-int8', { cacheDir: temp(), mirrorDir: CORAL_DIR });
    for (const requested of ['auto', 'cuda', 'cpu'] as const) {
      const { session, report } = await openSession(int8.onnxPath, requested, { intraOp: 1, interOp: 1 }, 'int8');
      expect(report.device).toBe('cpu');
      if (requested === 'cpu') expect(report.fallbackReason).toBeUndefined();
      else expect(report.fallbackReason).toMatch(/int8 backbone runs on the CPU/);
      await session.release();
    }
  });
});
