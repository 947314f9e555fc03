// One converter per TFLite builtin op, each emitting float ONNX nodes.
//
// The int8 graph (precision 'int8') is the same float graph in QDQ form: quantized weights are
// stored as their integers behind DequantizeLinear, and every quantized activation passes through
// QuantizeLinear→DequantizeLinear with the TFLite tensor's own scale and zero point (Conversion.
// setValue). ONNX Runtime's graph optimizer fuses each DQ→op→Q group into its integer kernel
// (QLinearConv, QLinearAdd, QLinearGlobalAveragePool, ...), so the arithmetic is TFLite's.
//
// Layout: TFLite activations are NHWC, ONNX convolutions want NCHW. Every converted value carries
// `perm`: ONNX axis j holds TFLite axis perm[j]. 4-D activations live as NCHW (perm [0,3,1,2]) from
// the input on, so no transposes appear between convolutions; ops that care about axis order
// (reshape, squeeze, fully-connected) put their input back in TFLite order first, which for the
// usual [N,1,1,C] head is a free relabelling of size-1 axes.
import { attr, type Attributes, type GraphBuilder } from '../../onnx/graph-builder.js';
import { symmetricInt8, transposeData, type FloatConstant, type QuantizedConstant } from './constants.js';
import {
  ActivationFunctionType,
  BuiltinOperator,
  Padding,
  TensorType,
  builtinOperatorName,
  type BuiltinOptions,
  type Operator,
  type Tensor,
} from './schema.js';

export const NCHW: readonly number[] = [0, 3, 1, 2];

/** 'float': every constant dequantized, float arithmetic throughout; 'int8': a QDQ graph (see above). */
export type Precision = 'float' | 'int8';

/** How an activation tensor is quantized: real = (q - zeroPoint) * scale, q in [qmin, qmax]. */
export interface ActivationQuantization {
  scale: number;
  zeroPoint: number;
  type: TensorType.UINT8 | TensorType.INT8;
  qmin: number;
  qmax: number;
}

/** A converted activation: its ONNX name, axis permutation, and TFLite shape (axis 0 is the batch). */
export interface Value {
  name: string;
  perm: readonly number[];
  shape: readonly number[];
}

/** What an op converter needs from the surrounding conversion. */
export interface ConversionContext {
  readonly graph: GraphBuilder;
  readonly modelName: string;
  tensor(index: number): Tensor;
  isConstant(index: number): boolean;
  /** The ONNX value computed for a (non-constant) tensor. */
  value(index: number): Value;
  setValue(index: number, value: Value): void;
  /** Marks `index` as the same constant as `source` (DEQUANTIZE/QUANTIZE of weights). */
  aliasConstant(index: number, source: number): void;
  floatConstant(index: number, fallbackScale?: readonly number[]): FloatConstant;
  /** The constant's stored integers and quantization (undefined when it is not quantized). */
  quantizedConstant(index: number, fallbackScale?: readonly number[]): QuantizedConstant | undefined;
  intConstant(index: number): number[];
  readonly precision: Precision;
  /** In the int8 graph, the quantization its QDQ pair gives the tensor's value; undefined otherwise. */
  activationQuantization(index: number): ActivationQuantization | undefined;
  /** A readable, unique-able ONNX name for a tensor (its first TFLite name segment). */
  baseName(index: number): string;
}

export type OpConverter = (ctx: ConversionContext, op: Operator, opName: string) => void;

// ---------------------------------------------------------------------------------------------
// Layout helpers

const isIdentity = (perm: readonly number[]) => perm.every((p, j) => p === j);

/** Re-lays `v` out so that ONNX axis j holds TFLite axis `perm[j]`. */
export function toLayout(ctx: ConversionContext, v: Value, perm: readonly number[]): Value {
  if (v.perm.length !== perm.length) throw new Error(`layout rank mismatch for '${v.name}'`);
  if (v.perm.every((p, j) => p === perm[j])) return v;
  const transposePerm = perm.map((p) => v.perm.indexOf(p));
  const name = ctx.graph.addNode('Transpose', [v.name], { perm: attr.ints(transposePerm) }, { name: `${v.name}_transpose` });
  return { name, perm, shape: v.shape };
}

/**
 * `v` with its memory in TFLite (row-major, original axis order) layout, as Reshape and Flatten
 * need it. When only size-1 axes are out of place the bytes are already in that order, so no node.
 */
function inTfliteMemoryOrder(ctx: ConversionContext, v: Value): string {
  if (isIdentity(v.perm)) return v.name;
  // Axis 0 is the batch: size 1 in the TFLite shape but N at run time, so it counts as non-trivial.
  const significant = v.perm.filter((p) => p === 0 || v.shape[p] !== 1);
  if (significant.every((p, i) => i === 0 || p > significant[i - 1]!)) return v.name;
  return toLayout(ctx, v, v.perm.map((_, j) => j)).name;
}

/** Reshape to a TFLite shape, keeping the batch axis symbolic (ONNX Reshape: 0 copies the input dim). */
function reshapeTo(
  ctx: ConversionContext,
  v: Value,
  shape: readonly number[],
  outName: string,
  target: readonly number[] = [0, ...shape.slice(1)],
): Value {
  const input = inTfliteMemoryOrder(ctx, v);
  const name = ctx.graph.addNode('Reshape', [input, ctx.graph.int64Vector(target)], {}, { name: outName });
  return { name, perm: shape.map((_, j) => j), shape };
}

/**
 * `v` as an [N, D] graph output named exactly `outName`. A spatial 4-D map is global-average-pooled
 * first, so a feature taken from inside the network is still one vector per image.
 */
export function flattenToOutput(ctx: ConversionContext, v: Value, outName: string): { name: string; dim: number } {
  let source = v;
  if (v.shape.length === 4 && v.shape[1]! * v.shape[2]! > 1) {
    const pooled = ctx.graph.addNode('GlobalAveragePool', [toLayout(ctx, v, NCHW).name], {}, { name: `${outName}_pool` });
    source = { name: pooled, perm: NCHW, shape: [1, 1, 1, v.shape[3]!] };
  }
  const dim = source.shape.slice(1).reduce((a, b) => a * b, 1);
  const name = ctx.graph.addNode('Flatten', [inTfliteMemoryOrder(ctx, source)], { axis: attr.int(1) }, { name: outName, output: outName });
  return { name, dim };
}

/** TFLite shapes are batch-1; an op that drops the batch axis (SQUEEZE of [1,1,1,K]) keeps it here. */
function withBatchAxis(shape: readonly number[]): number[] {
  return shape[0] === 1 && shape.length > 1 ? [...shape] : [1, ...shape];
}

/** A constant brought to the layout of the activation it combines with (numpy broadcasting rules). */
function constantInLayout(ctx: ConversionContext, index: number, like: Value): string {
  const c = ctx.floatConstant(index);
  const rank = like.perm.length;
  if (c.shape.length > rank) throw new Error(`constant '${ctx.tensor(index).name}' has higher rank than its operand`);
  const padded = [...new Array<number>(rank - c.shape.length).fill(1), ...c.shape];
  const t = transposeData(c.data, padded, like.perm);
  return ctx.graph.addFloatInitializer(ctx.baseName(index), t.shape, t.data);
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** Applies a fused activation to `input`; the final node is named `outName`. */
function fusedActivation(
  ctx: ConversionContext,
  input: string,
  activation: ActivationFunctionType,
  outName: string,
  opName: string,
): string {
  const g = ctx.graph;
  switch (activation) {
    case ActivationFunctionType.NONE:
      return input;
    case ActivationFunctionType.RELU:
      return g.addNode('Relu', [input], {}, { name: outName });
    case ActivationFunctionType.RELU6:
      return g.addNode('Clip', [input, g.floatScalar(0), g.floatScalar(6)], {}, { name: outName });
    case ActivationFunctionType.RELU_N1_TO_1:
      return g.addNode('Clip', [input, g.floatScalar(-1), g.floatScalar(1)], {}, { name: outName });
    case ActivationFunctionType.TANH:
      return g.addNode('Tanh', [input], {}, { name: outName });
    default:
      throw new Error(`unsupported fused activation ${ActivationFunctionType[activation] ?? activation} on ${opName} in ${ctx.modelName}`);
  }
}

/** The interval a clipping activation keeps; undefined for others. */
function clipRange(activation: ActivationFunctionType): [number, number] | undefined {
  switch (activation) {
    case ActivationFunctionType.RELU:
      return [0, Infinity];
    case ActivationFunctionType.RELU6:
      return [0, 6];
    case ActivationFunctionType.RELU_N1_TO_1:
      return [-1, 1];
    default:
      return undefined;
  }
}

/**
 * Whether quantizing the output already does the activation's clipping: Q is monotone and
 * saturating, so Q(clip(x, lo, hi)) = clamp(Q(x), Q(lo), Q(hi)), which is Q(x) for every x exactly
 * when Q(lo) = qmin and Q(hi) = qmax. TFLite's fused RELU6 outputs are quantized to [0, 6] with
 * zero point 0, so their Clip nodes are left out of the int8 graph: then nothing stands between
 * the op and its QuantizeLinear, and ONNX Runtime fuses the group into one integer kernel.
 */
function impliedByQuantization(q: ActivationQuantization | undefined, activation: ActivationFunctionType): boolean {
  const range = clipRange(activation);
  if (!q || !range) return false;
  const quantize = (x: number) => Math.min(q.qmax, Math.max(q.qmin, Math.round(x / q.scale) + q.zeroPoint));
  return quantize(range[0]) === q.qmin && quantize(range[1]) === q.qmax;
}

/**
 * Emits `opType` and its fused activation; the last node gets the output tensor's name, so value
 * names in the ONNX graph match the TFLite model.
 */
function emitWithActivation(
  ctx: ConversionContext,
  op: Operator,
  opName: string,
  opType: string,
  inputs: string[],
  attributes: Attributes,
  activation: ActivationFunctionType,
  perm: readonly number[],
): void {
  const out = outputOf(op);
  const base = ctx.baseName(out);
  if (impliedByQuantization(ctx.activationQuantization(out), activation)) activation = ActivationFunctionType.NONE;
  const pre = ctx.graph.addNode(opType, inputs, attributes, {
    name: activation === ActivationFunctionType.NONE ? base : `${base}_${opType.toLowerCase()}`,
  });
  const name = fusedActivation(ctx, pre, activation, base, opName);
  ctx.setValue(out, { name, perm, shape: ctx.tensor(out).shape });
}

function outputOf(op: Operator): number {
  const out = op.outputs[0];
  if (out === undefined) throw new Error('TFLite operator without outputs');
  return out;
}

function inputAt(op: Operator, k: number, opName: string): number {
  const index = op.inputs[k];
  if (index === undefined || index < 0) throw new Error(`${opName} is missing input ${k}`);
  return index;
}

function options<K extends BuiltinOptions['kind']>(op: Operator, kind: K, opName: string): Extract<BuiltinOptions, { kind: K }> {
  const o = op.builtinOptions;
  if (!o || o.kind !== kind) throw new Error(`${opName} without ${kind}`);
  return o as Extract<BuiltinOptions, { kind: K }>;
}

/** TensorFlow's SAME padding: total = max((ceil(in/s)-1)*s + (k-1)*d + 1 - in, 0), extra on the end. */
export function samePadding(inSize: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** ONNX pads [top, left, bottom, right] for a 2-D window over an NHWC input shape. */
function spatialPads(
  padding: Padding,
  inShape: readonly number[],
  kernel: [number, number],
  stride: [number, number],
  dilation: [number, number] = [1, 1],
): number[] {
  if (padding === Padding.VALID) return [0, 0, 0, 0];
  const [top, bottom] = samePadding(inShape[1]!, kernel[0], stride[0], dilation[0]);
  const [left, right] = samePadding(inShape[2]!, kernel[1], stride[1], dilation[1]);
  return [top, left, bottom, right];
}

/** A 4-D activation input in NCHW. */
function nchwInput(ctx: ConversionContext, op: Operator, k: number, opName: string): Value {
  const v = ctx.value(inputAt(op, k, opName));
  if (v.shape.length !== 4) throw new Error(`${opName} expects a 4-D input, got [${v.shape}] in ${ctx.modelName}`);
  return toLayout(ctx, v, NCHW);
}

/** A weight as an ONNX value; in the int8 graph also the scale of its int8 steps per output channel. */
interface WeightValue {
  name: string;
  channelScale?: number[];
}

/**
 * A weight constant laid out as `perm` of its TFLite axes (output channels on TFLite axis
 * `channelAxis`): a float initializer, or in the int8 graph symmetric int8 integers (transposed)
 * behind DequantizeLinear, one scale per output channel (see symmetricInt8).
 */
function weightValue(ctx: ConversionContext, index: number, perm: readonly number[], channelAxis: number): WeightValue {
  const quantized = ctx.precision === 'int8' ? ctx.quantizedConstant(index) : undefined;
  if (quantized && quantized.type !== TensorType.INT32) {
    const constant = symmetricInt8(quantized, channelAxis);
    const t = transposeData(Float32Array.from(constant.values), constant.shape, perm); // 8-bit values are exact in float32
    const name = dequantizedInitializer(ctx, ctx.baseName(index), { ...constant, shape: t.shape, values: Float64Array.from(t.data), axis: perm.indexOf(channelAxis) });
    return { name, channelScale: constant.scale };
  }
  const w = ctx.floatConstant(index);
  const t = transposeData(w.data, w.shape, perm);
  return { name: ctx.graph.addFloatInitializer(ctx.baseName(index), t.shape, t.data) };
}

/**
 * Bias as float; int32 biases without their own scale use input_scale * weight_scale[c]. In the
 * int8 graph (int8 weights, quantized input) the bias is int32 behind DequantizeLinear with scale
 * input_scale · weight_scale[c] and zero point 0, which is how QLinearConv reads it: the stored
 * integers as they are, or rescaled to the channel's widened weight scale (symmetricInt8).
 */
function biasInitializer(ctx: ConversionContext, op: Operator, weight: WeightValue): string {
  const index = op.inputs[2];
  if (index === undefined || index < 0) return '';
  const base = `${weight.name}_bias`;
  const inputScale = ctx.tensor(inputAt(op, 0, 'bias')).quantization?.scale[0];
  const weightScales = ctx.tensor(inputAt(op, 1, 'bias')).quantization?.scale ?? [];
  const fallback = inputScale === undefined ? undefined : weightScales.map((s) => s * inputScale);
  const input = ctx.activationQuantization(inputAt(op, 0, 'bias'));
  const quantized = input && weight.channelScale ? ctx.quantizedConstant(index, fallback) : undefined;
  if (input && weight.channelScale && quantized && quantized.type === TensorType.INT32 && quantized.zeroPoint.every((z) => z === 0)) {
    const scale = weight.channelScale.map((s) => Math.fround(input.scale * s));
    const stored = (c: number) => quantized.scale[quantized.scale.length > 1 ? c : 0]!;
    const values = quantized.values.map((b, c) => Math.round((b * stored(c)) / scale[c]!));
    return dequantizedInitializer(ctx, base, { shape: quantized.shape, type: TensorType.INT32, values, scale, zeroPoint: [0], axis: 0 });
  }
  const bias = ctx.floatConstant(index, fallback);
  return ctx.graph.addFloatInitializer(base, [bias.data.length], bias.data);
}

const ONNX_QUANTIZED_TYPE = { [TensorType.UINT8]: 'uint8', [TensorType.INT8]: 'int8', [TensorType.INT32]: 'int32' } as const;

/** `c`'s integers as an initializer behind DequantizeLinear (per-tensor, or per-channel along c.axis). */
function dequantizedInitializer(ctx: ConversionContext, base: string, c: QuantizedConstant): string {
  const g = ctx.graph;
  const type = ONNX_QUANTIZED_TYPE[c.type];
  const perChannel = c.scale.length > 1;
  const dims = perChannel ? [c.scale.length] : [];
  const zeroPoint = perChannel ? c.scale.map((_, i) => c.zeroPoint[c.zeroPoint.length > 1 ? i : 0] ?? 0) : [c.zeroPoint[0] ?? 0];
  const values = g.addQuantizedInitializer(`${base}_quantized`, type, c.shape, c.values);
  const scale = g.addFloatInitializer(`${base}_scale`, dims, c.scale);
  const zp = g.addQuantizedInitializer(`${base}_zero_point`, type, dims, zeroPoint);
  return g.addNode('DequantizeLinear', [values, scale, zp], perChannel ? { axis: attr.int(c.axis) } : {}, { name: base });
}

// ---------------------------------------------------------------------------------------------
// Converters

const conv2d: OpConverter = (ctx, op, opName) => {
  const o = options(op, 'Conv2DOptions', opName);
  const x = nchwInput(ctx, op, 0, opName);
  const weightIndex = inputAt(op, 1, opName);
  const [, kh, kw, inChannels] = ctx.tensor(weightIndex).shape as [number, number, number, number]; // [O, kh, kw, I]
  const groups = x.shape[3]! / inChannels; // grouped conv: TFLite infers groups from the channel counts
  if (!Number.isInteger(groups)) throw new Error(`${opName}: input channels ${x.shape[3]} vs filter ${inChannels} in ${ctx.modelName}`);
  const weight = weightValue(ctx, weightIndex, [0, 3, 1, 2], 0); // -> [O, I, kh, kw]
  const bias = biasInitializer(ctx, op, weight);
  const inputs = bias ? [x.name, weight.name, bias] : [x.name, weight.name];
  emitWithActivation(ctx, op, opName, 'Conv', inputs, {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints([o.strideH, o.strideW]),
    dilations: attr.ints([o.dilationH, o.dilationW]),
    pads: attr.ints(spatialPads(o.padding, x.shape, [kh, kw], [o.strideH, o.strideW], [o.dilationH, o.dilationW])),
    group: attr.int(groups),
  }, o.fusedActivation, NCHW);
};

const depthwiseConv2d: OpConverter = (ctx, op, opName) => {
  const o = options(op, 'DepthwiseConv2DOptions', opName);
  const x = nchwInput(ctx, op, 0, opName);
  const weightIndex = inputAt(op, 1, opName);
  const [, kh, kw] = ctx.tensor(weightIndex).shape as [number, number, number, number]; // [1, kh, kw, C*m]
  const channels = x.shape[3]!;
  // Output channel c*m+k reads input channel c, which is exactly ONNX grouped conv with group = C.
  const weight = weightValue(ctx, weightIndex, [3, 0, 1, 2], 3); // -> [C*m, 1, kh, kw]
  const bias = biasInitializer(ctx, op, weight);
  const inputs = bias ? [x.name, weight.name, bias] : [x.name, weight.name];
  emitWithActivation(ctx, op, opName, 'Conv', inputs, {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints([o.strideH, o.strideW]),
    dilations: attr.ints([o.dilationH, o.dilationW]),
    pads: attr.ints(spatialPads(o.padding, x.shape, [kh, kw], [o.strideH, o.strideW], [o.dilationH, o.dilationW])),
    group: attr.int(channels),
  }, o.fusedActivation, NCHW);
};

/** Binary elementwise op; constants are broadcast-aligned and laid out like the activation operand. */
function elementwise(onnxOp: string): OpConverter {
  return (ctx, op, opName) => {
    const activation = op.builtinOptions && 'fusedActivation' in op.builtinOptions ? op.builtinOptions.fusedActivation : ActivationFunctionType.NONE;
    const [a, b] = [inputAt(op, 0, opName), inputAt(op, 1, opName)];
    const anchorIndex = ctx.isConstant(a) ? b : a;
    if (ctx.isConstant(anchorIndex)) throw new Error(`${opName} of two constants in ${ctx.modelName}`);
    const anchor = ctx.value(anchorIndex);
    const operand = (index: number) =>
      ctx.isConstant(index) ? constantInLayout(ctx, index, anchor) : toLayout(ctx, ctx.value(index), anchor.perm).name;
    emitWithActivation(ctx, op, opName, onnxOp, [operand(a), operand(b)], {}, activation, anchor.perm);
  };
}

function pool2d(kind: 'average' | 'max'): OpConverter {
  return (ctx, op, opName) => {
    const o = options(op, 'Pool2DOptions', opName);
    const x = nchwInput(ctx, op, 0, opName);
    const kernel: [number, number] = [o.filterHeight, o.filterWidth];
    const pads = spatialPads(o.padding, x.shape, kernel, [o.strideH, o.strideW]);
    const coversInput = kernel[0] === x.shape[1] && kernel[1] === x.shape[2] && pads.every((p) => p === 0);
    if (kind === 'average' && coversInput) {
      emitWithActivation(ctx, op, opName, 'GlobalAveragePool', [x.name], {}, o.fusedActivation, NCHW);
      return;
    }
    // TensorFlow's SAME average pooling divides by the number of real (unpadded) cells.
    const extra: Attributes = kind === 'average' ? { count_include_pad: attr.int(0) } : {};
    emitWithActivation(ctx, op, opName, kind === 'average' ? 'AveragePool' : 'MaxPool', [x.name], {
      kernel_shape: attr.ints(kernel),
      strides: attr.ints([o.strideH, o.strideW]),
      pads: attr.ints(pads),
      ...extra,
    }, o.fusedActivation, NCHW);
  };
}

const mean: OpConverter = (ctx, op, opName) => {
  const o = options(op, 'ReducerOptions', opName);
  const x = ctx.value(inputAt(op, 0, opName));
  const rank = x.shape.length;
  const axes = [...new Set(ctx.intConstant(inputAt(op, 1, opName)).map((a) => (a < 0 ? a + rank : a)))].sort();
  if (axes.includes(0)) throw new Error(`${opName} over the batch axis is not supported in ${ctx.modelName}`);
  const onnxAxes = axes.map((a) => x.perm.indexOf(a)).sort();
  const out = outputOf(op);
  const base = ctx.baseName(out);
  const name = ctx.graph.addNode('ReduceMean', [x.name], { axes: attr.ints(onnxAxes), keepdims: attr.int(o.keepDims ? 1 : 0) }, { name: base });
  let perm = x.perm;
  if (!o.keepDims) {
    // The surviving axes keep their ONNX order; renumber their TFLite axes densely.
    const kept = x.perm.filter((p) => !axes.includes(p));
    const sorted = [...kept].sort((p, q) => p - q);
    perm = kept.map((p) => sorted.indexOf(p));
  }
  ctx.setValue(out, { name, perm, shape: withBatchAxis(ctx.tensor(out).shape) });
};

/** RESHAPE and SQUEEZE: both are a reshape to the (static) output shape in TFLite axis order. */
const reshape: OpConverter = (ctx, op, opName) => {
  const x = ctx.value(inputAt(op, 0, opName));
  const out = outputOf(op);
  ctx.setValue(out, reshapeTo(ctx, x, withBatchAxis(ctx.tensor(out).shape), ctx.baseName(out)));
};

const softmax: OpConverter = (ctx, op, opName) => {
  const o = options(op, 'SoftmaxOptions', opName);
  const x = ctx.value(inputAt(op, 0, opName));
  const out = outputOf(op);
  let input = x.name;
  if (o.beta !== 1) input = ctx.graph.addNode('Mul', [input, ctx.graph.floatScalar(o.beta)], {}, { name: `${x.name}_beta` });
  const axis = x.perm.indexOf(x.shape.length - 1); // TFLite softmax runs over the last axis
  const name = ctx.graph.addNode('Softmax', [input], { axis: attr.int(axis) }, { name: ctx.baseName(out) });
  ctx.setValue(out, { name, perm: x.perm, shape: x.shape });
};

const fullyConnected: OpConverter = (ctx, op, opName) => {
  const o = options(op, 'FullyConnectedOptions', opName);
  if (o.weightsFormat !== 0) throw new Error(`${opName} with shuffled weights is not supported in ${ctx.modelName}`);
  const weightIndex = inputAt(op, 1, opName);
  if (!ctx.isConstant(weightIndex)) throw new Error(`${opName} with non-constant weights is not supported in ${ctx.modelName}`);
  const [units, depth] = ctx.tensor(weightIndex).shape as [number, number]; // [O, I]
  const x = ctx.value(inputAt(op, 0, opName));
  // TFLite flattens every leading axis into rows of `depth` features.
  const flat =
    x.shape.length === 2 && x.shape[1] === depth && isIdentity(x.perm)
      ? x
      : reshapeTo(ctx, x, [1, depth], `${x.name}_rows`, [-1, depth]);
  const weight = weightValue(ctx, weightIndex, [0, 1], 0);
  const bias = biasInitializer(ctx, op, weight);
  const inputs = bias ? [flat.name, weight.name, bias] : [flat.name, weight.name];
  const out = outputOf(op);
  emitWithActivation(ctx, op, opName, 'Gemm', inputs, { transB: attr.int(1) }, o.fusedActivation, [0, 1]);
  if (o.keepNumDims && x.shape.length > 2) {
    const shape = [...x.shape.slice(0, -1), units];
    ctx.setValue(out, reshapeTo(ctx, ctx.value(out), shape, `${ctx.baseName(out)}_keepdims`));
  } else {
    ctx.setValue(out, { ...ctx.value(out), shape: [1, units] });
  }
};

const concatenation: OpConverter = (ctx, op, opName) => {
  const o = options(op, 'ConcatenationOptions', opName);
  const anchorIndex = op.inputs.find((i) => i >= 0 && !ctx.isConstant(i));
  if (anchorIndex === undefined) throw new Error(`${opName} of constants only in ${ctx.modelName}`);
  const anchor = ctx.value(anchorIndex);
  const inputs = op.inputs.map((i) =>
    ctx.isConstant(i) ? constantInLayout(ctx, i, anchor) : toLayout(ctx, ctx.value(i), anchor.perm).name,
  );
  const rank = anchor.shape.length;
  const axis = anchor.perm.indexOf(o.axis < 0 ? o.axis + rank : o.axis);
  emitWithActivation(ctx, op, opName, 'Concat', inputs, { axis: attr.int(axis) }, o.fusedActivation, anchor.perm);
};

const pad: OpConverter = (ctx, op, opName) => {
  const x = ctx.value(inputAt(op, 0, opName));
  const paddings = ctx.intConstant(inputAt(op, 1, opName)); // [rank, 2] in TFLite axes
  const rank = x.shape.length;
  if (paddings.length !== 2 * rank) throw new Error(`${opName}: paddings do not match rank ${rank} in ${ctx.modelName}`);
  const begins = x.perm.map((p) => paddings[2 * p]!);
  const ends = x.perm.map((p) => paddings[2 * p + 1]!);
  // Quantized PAD fills with the zero point, i.e. real 0, so a float zero pad is exact.
  // Note: ORT's PadFusion optimizer folds Pad into a following Conv/AveragePool/MaxPool's pads and
  // then rejects pads >= kernel; backbones pad by less than the next window (ResNet: 1 before 3x3).
  const out = outputOf(op);
  const name = ctx.graph.addNode('Pad', [x.name, ctx.graph.int64Vector([...begins, ...ends])], { mode: attr.string('constant') }, { name: ctx.baseName(out) });
  ctx.setValue(out, { name, perm: x.perm, shape: ctx.tensor(out).shape });
};

/** QUANTIZE / DEQUANTIZE only change the integer encoding; in a float graph they are the identity. */
const requantize: OpConverter = (ctx, op, opName) => {
  const input = inputAt(op, 0, opName);
  const out = outputOf(op);
  if (ctx.isConstant(input)) ctx.aliasConstant(out, input);
  else ctx.setValue(out, ctx.value(input));
};

const standaloneActivation = (activation: ActivationFunctionType): OpConverter => (ctx, op, opName) => {
  const x = ctx.value(inputAt(op, 0, opName));
  const out = outputOf(op);
  const implied = impliedByQuantization(ctx.activationQuantization(out), activation);
  const name = implied ? x.name : fusedActivation(ctx, x.name, activation, ctx.baseName(out), opName);
  ctx.setValue(out, { ...x, name });
};

export const OP_CONVERTERS: ReadonlyMap<number, OpConverter> = new Map<number, OpConverter>([
  [BuiltinOperator.CONV_2D, conv2d],
  [BuiltinOperator.DEPTHWISE_CONV_2D, depthwiseConv2d],
  [BuiltinOperator.ADD, elementwise('Add')],
  [BuiltinOperator.AVERAGE_POOL_2D, pool2d('average')],
  [BuiltinOperator.MAX_POOL_2D, pool2d('max')],
  [BuiltinOperator.MEAN, mean],
  [BuiltinOperator.RESHAPE, reshape],
  [BuiltinOperator.SQUEEZE, reshape],
  [BuiltinOperator.SOFTMAX, softmax],
  [BuiltinOperator.FULLY_CONNECTED, fullyConnected],
  [BuiltinOperator.CONCATENATION, concatenation],
  [BuiltinOperator.PAD, pad],
  [BuiltinOperator.QUANTIZE, requantize],
  [BuiltinOperator.DEQUANTIZE, requantize],
  [BuiltinOperator.RELU, standaloneActivation(ActivationFunctionType.RELU)],
  [BuiltinOperator.RELU6, standaloneActivation(ActivationFunctionType.RELU6)],
  [BuiltinOperator.RELU_N1_TO_1, standaloneActivation(ActivationFunctionType.RELU_N1_TO_1)],
]);

export function unsupportedOp(code: number, customCode: string | undefined, modelName: string): Error {
  const name = code === BuiltinOperator.CUSTOM ? `CUSTOM(${customCode ?? '?'})` : builtinOperatorName(code);
  return new Error(`unsupported TFLite op ${name} in ${modelName}`);
}
