// TFLite model -> ONNX feature extractor: walks the main subgraph in execution order, converts each
// op (ops.ts), then exposes the penultimate pooled tensor as `features` plus, when the model still
// has its classifier, `logits` and `probabilities`.
import { attr, GraphBuilder } from '../../onnx/graph-builder.js';
import { floatConstant, intConstant, quantizedConstant, type FloatConstant, type QuantizedConstant } from './constants.js';
import type { ImportedBackbone } from './index.js';
import {
  NCHW,
  OP_CONVERTERS,
  flattenToOutput,
  unsupportedOp,
  type ActivationQuantization,
  type ConversionContext,
  type Precision,
  type Value,
} from './ops.js';
import { BuiltinOperator, TensorType, TfliteFormatError, builtinOperatorName, type Model, type Operator, type SubGraph, type Tensor } from './schema.js';

export interface ConvertOptions {
  /** TFLite tensor name to expose as `features` instead of the last global pooling output. */
  featureTensor?: string;
  /** Extra tensors pooled and appended to the features (see appendFeatureTaps). */
  featureTaps?: readonly string[];
  /** Used in error messages. */
  modelName?: string;
  /** 'int8': a QDQ graph that ONNX Runtime runs with integer kernels (see ops.ts); default 'float'. */
  precision?: Precision;
}

/** Ops whose output is only a re-encoding of their input (no arithmetic in a float graph). */
const REQUANTIZE_OPS = new Set<number>([BuiltinOperator.QUANTIZE, BuiltinOperator.DEQUANTIZE]);
/** Ops that carry learned weights: after the feature tensor, their presence means a classifier head. */
const WEIGHTED_OPS = new Set<number>([BuiltinOperator.CONV_2D, BuiltinOperator.DEPTHWISE_CONV_2D, BuiltinOperator.FULLY_CONNECTED]);

class Conversion implements ConversionContext {
  readonly graph = new GraphBuilder('keizoku_tflite_backbone', { producerName: 'keizoku-tflite-import' });
  private readonly values = new Map<number, Value>();
  private readonly constantAliases = new Map<number, number>();
  private readonly zeroPoints = new Map<string, string>();

  constructor(
    private readonly model: Model,
    private readonly subgraph: SubGraph,
    readonly modelName: string,
    readonly precision: Precision,
  ) {}

  tensor(index: number): Tensor {
    const t = this.subgraph.tensors[index];
    if (!t) throw new TfliteFormatError(`tensor index ${index} out of range in ${this.modelName}`);
    return t;
  }

  private constantData(index: number): { tensor: Tensor; data: Uint8Array } | undefined {
    const tensor = this.tensor(this.constantAliases.get(index) ?? index);
    const data = this.model.buffers[tensor.buffer]?.data;
    return data && data.length > 0 ? { tensor, data } : undefined;
  }

  isConstant(index: number): boolean {
    return this.constantData(index) !== undefined;
  }

  floatConstant(index: number, fallbackScale?: readonly number[]): FloatConstant {
    const c = this.constantData(index);
    if (!c) throw new Error(`tensor '${this.tensor(index).name}' should be a constant in ${this.modelName}`);
    return floatConstant(c.tensor, c.data, fallbackScale);
  }

  quantizedConstant(index: number, fallbackScale?: readonly number[]): QuantizedConstant | undefined {
    const c = this.constantData(index);
    if (!c) throw new Error(`tensor '${this.tensor(index).name}' should be a constant in ${this.modelName}`);
    return quantizedConstant(c.tensor, c.data, fallbackScale);
  }

  /**
   * Int8 graph only: a UINT8/INT8 activation with one scale. Model outputs are left in float
   * (a last requantization would only round them: the softmax stays float on the dequantized logits).
   */
  activationQuantization(index: number): ActivationQuantization | undefined {
    if (this.precision !== 'int8' || this.subgraph.outputs.includes(index)) return undefined;
    const t = this.tensor(index);
    const q = t.quantization;
    if ((t.type !== TensorType.UINT8 && t.type !== TensorType.INT8) || !q || q.scale.length !== 1 || !(q.scale[0]! > 0)) return undefined;
    const [qmin, qmax] = t.type === TensorType.UINT8 ? [0, 255] : [-128, 127];
    return { scale: q.scale[0]!, zeroPoint: q.zeroPoint[0] ?? 0, type: t.type, qmin, qmax };
  }

  intConstant(index: number): number[] {
    const c = this.constantData(index);
    if (!c) throw new Error(`tensor '${this.tensor(index).name}' should be a constant in ${this.modelName}`);
    return intConstant(c.tensor, c.data);
  }

  aliasConstant(index: number, source: number): void {
    this.constantAliases.set(index, this.constantAliases.get(source) ?? source);
  }

  value(index: number): Value {
    const v = this.values.get(index);
    if (!v) {
      const why = this.isConstant(index) ? 'is a constant where an activation is expected' : 'is used before it is computed';
      throw new Error(`tensor '${this.tensor(index).name}' ${why} in ${this.modelName}`);
    }
    return v;
  }

  /**
   * Records the ONNX value of a tensor. In the int8 graph a quantized activation is first passed
   * through QuantizeLinear→DequantizeLinear with its TFLite scale and zero point: the pairs are
   * what ONNX Runtime's QDQ fusion turns into integer kernels, and the rounding they do is the
   * rounding TFLite does. (A tensor set again, e.g. reshaped in place, is not quantized twice.)
   */
  setValue(index: number, value: Value): void {
    const q = this.values.has(index) ? undefined : this.activationQuantization(index);
    if (q) {
      const g = this.graph;
      const type = q.type === TensorType.UINT8 ? 'uint8' : 'int8';
      const zpKey = `${type}:${q.zeroPoint}`;
      let zp = this.zeroPoints.get(zpKey);
      if (!zp) {
        zp = g.addQuantizedInitializer(`zero_point_${type}`, type, [], [q.zeroPoint]);
        this.zeroPoints.set(zpKey, zp);
      }
      const scale = g.floatScalar(q.scale);
      const base = this.baseName(index);
      const quantized = g.addNode('QuantizeLinear', [value.name, scale, zp], {}, { name: `${base}_quantized` });
      value = { ...value, name: g.addNode('DequantizeLinear', [quantized, scale, zp], {}, { name: `${base}_dequantized` }) };
    }
    this.values.set(index, value);
  }

  baseName(index: number): string {
    // Converter-fused names list every folded op ("a/Relu6;a/add_fold;..."); the first says enough.
    return this.tensor(index).name.split(';')[0] || `tensor_${index}`;
  }

  opCode(op: Operator): number {
    const code = this.model.operatorCodes[op.opcodeIndex];
    if (!code) throw new TfliteFormatError(`operator code index ${op.opcodeIndex} out of range in ${this.modelName}`);
    return code.builtinCode;
  }
}

export function convertModel(model: Model, options: ConvertOptions = {}): ImportedBackbone {
  const subgraph = model.subgraphs[0];
  if (!subgraph) throw new TfliteFormatError('TFLite model has no subgraph');
  const modelName = options.modelName ?? (subgraph.name || 'TFLite model');
  const ctx = new Conversion(model, subgraph, modelName, options.precision ?? 'float');

  // Fail on the first unsupported op before doing any work.
  for (const op of subgraph.operators) {
    const code = ctx.opCode(op);
    if (!OP_CONVERTERS.has(code)) throw unsupportedOp(code, model.operatorCodes[op.opcodeIndex]?.customCode, modelName);
  }

  // Input: one image tensor [1,H,W,C]; ONNX takes it as real-valued NCHW with a symbolic batch.
  if (subgraph.inputs.length !== 1) throw new Error(`${modelName} has ${subgraph.inputs.length} inputs; an image backbone has one`);
  const inputIndex = subgraph.inputs[0]!;
  const inputTensor = ctx.tensor(inputIndex);
  if (inputTensor.shape.length !== 4) throw new Error(`${modelName} input '${inputTensor.name}' is [${inputTensor.shape}], not an NHWC image`);
  const [, height, width, channels] = inputTensor.shape as [number, number, number, number];
  ctx.graph.addInput('input', 'float32', ['N', channels, height, width]);
  const taps = options.featureTaps ?? [];
  ctx.graph.reserveNames('features', 'logits', 'probabilities', ...taps.flatMap((_, i) => [`features_block_${i}`]), 'features_block_main');
  ctx.setValue(inputIndex, { name: 'input', perm: NCHW, shape: inputTensor.shape });

  const producerOf = new Map<number, number>();
  subgraph.operators.forEach((op, i) => {
    const code = ctx.opCode(op);
    OP_CONVERTERS.get(code)!(ctx, op, `${builtinOperatorName(code)} #${i}`);
    for (const out of op.outputs) producerOf.set(out, i);
  });

  const feature = chooseFeatureTensor(ctx, subgraph, producerOf, options.featureTensor);
  const tapTensors = taps.map((name) => findTensor(ctx, subgraph, name, 'feature tap'));
  const features = tapTensors.length === 0
    ? flattenToOutput(ctx, ctx.value(feature.tensor), 'features')
    : appendFeatureTaps(ctx, feature.tensor, tapTensors);
  ctx.graph.addOutput('features', 'float32', ['N', features.dim]);

  const result: ImportedBackbone = {
    onnx: new Uint8Array(),
    inputName: 'input',
    featuresName: 'features',
    inputSize: { height, width },
    featureDim: features.dim,
  };

  // Classifier outputs: the model output, seen through trailing (de)quantize ops; if it is a SOFTMAX,
  // its input holds the logits. Without weighted ops after the features there is no classifier.
  const skipRequantize = (tensor: number): number => {
    for (;;) {
      const producer = producerOf.get(tensor);
      const op = producer === undefined ? undefined : subgraph.operators[producer];
      if (!op || !REQUANTIZE_OPS.has(ctx.opCode(op)) || op.inputs[0] === undefined) return tensor;
      tensor = op.inputs[0];
    }
  };
  const outputTensor = subgraph.outputs[0] === undefined ? undefined : skipRequantize(subgraph.outputs[0]);
  const hasClassifier = subgraph.operators.slice(feature.opIndex + 1).some((op) => WEIGHTED_OPS.has(ctx.opCode(op)));
  if (outputTensor !== undefined && hasClassifier) {
    const last = subgraph.operators[producerOf.get(outputTensor)!]!;
    const endsInSoftmax = ctx.opCode(last) === BuiltinOperator.SOFTMAX;
    const logitsTensor = endsInSoftmax ? skipRequantize(last.inputs[0]!) : outputTensor;
    const logits = flattenToOutput(ctx, ctx.value(logitsTensor), 'logits');
    ctx.graph.addOutput('logits', 'float32', ['N', logits.dim]);
    result.logitsName = 'logits';
    if (endsInSoftmax) {
      const probabilities = flattenToOutput(ctx, ctx.value(outputTensor), 'probabilities');
      ctx.graph.addOutput('probabilities', 'float32', ['N', probabilities.dim]);
      result.probabilitiesName = 'probabilities';
    }
  }

  const q = inputTensor.quantization;
  const inputIsQuantized = inputTensor.type !== TensorType.FLOAT32 && q !== undefined && q.scale.length === 1;
  if (inputIsQuantized) result.inputQuantization = { scale: q.scale[0]!, zeroPoint: q.zeroPoint[0] ?? 0 };

  const g = ctx.graph;
  g.setMetadata('keizoku.source', 'tflite');
  g.setMetadata('tflite.feature_tensor', ctx.tensor(feature.tensor).name);
  if (tapTensors.length > 0) g.setMetadata('tflite.feature_taps', JSON.stringify(tapTensors.map((t) => ctx.tensor(t).name)));
  if (model.description) g.setMetadata('tflite.description', model.description);
  if (result.inputQuantization) {
    g.setMetadata('tflite.input_scale', String(result.inputQuantization.scale));
    g.setMetadata('tflite.input_zero_point', String(result.inputQuantization.zeroPoint));
  }
  result.onnx = g.toBytes();
  return result;
}

/**
 * The tensor that feeds the classifier: by name when asked; else the output of the last global
 * pooling (an AVERAGE_POOL_2D whose window covers the whole map, or MEAN over H and W); else the
 * input of the last FULLY_CONNECTED; else the model output (an embedding model).
 */
function chooseFeatureTensor(
  ctx: Conversion,
  subgraph: SubGraph,
  producerOf: ReadonlyMap<number, number>,
  requested: string | undefined,
): { tensor: number; opIndex: number } {
  if (requested !== undefined) {
    const tensor = findTensor(ctx, subgraph, requested, 'feature tensor');
    return { tensor, opIndex: producerOf.get(tensor) ?? -1 };
  }
  const ops = subgraph.operators;
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    if (isGlobalPool(ctx, op)) return { tensor: op.outputs[0]!, opIndex: i };
  }
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!;
    if (ctx.opCode(op) === BuiltinOperator.FULLY_CONNECTED) {
      const input = op.inputs[0]!;
      return { tensor: input, opIndex: producerOf.get(input) ?? -1 };
    }
  }
  const output = subgraph.outputs[0];
  if (output === undefined) throw new Error(`${ctx.modelName} has no outputs`);
  return { tensor: output, opIndex: ops.length - 1 };
}

/**
 * An activation tensor by its full name, or by its first name segment when that is unique among activations
 * (converter-fused names run to hundreds of characters: "a/add_fold;b/Conv2D_Fold;...").
 */
function findTensor(ctx: Conversion, subgraph: SubGraph, requested: string, what: string): number {
  let tensor = subgraph.tensors.findIndex((t) => t.name === requested);
  if (tensor < 0) {
    // Weights can share the segment (a folded bias is named after its op): activations only.
    const bySegment = subgraph.tensors.flatMap((t, i) => (t.name.split(';')[0] === requested && !ctx.isConstant(i) ? [i] : []));
    if (bySegment.length > 1) throw new Error(`${what} '${requested}' names ${bySegment.length} tensors in ${ctx.modelName}; give the full name`);
    tensor = bySegment[0] ?? -1;
  }
  if (tensor < 0) throw new Error(`${what} '${requested}' not found in ${ctx.modelName}`);
  if (ctx.isConstant(tensor)) throw new Error(`${what} '${requested}' is a constant in ${ctx.modelName}`);
  return tensor;
}

/**
 * Richer frozen features: the main feature tensor and each tap are globally average-pooled,
 * each block is L2-normalized on its own (so a block's weight does not depend on its width or
 * activation scale: the 1280 post-ReLU6 features and a 96-wide linear bottleneck differ a lot
 * in norm), and the blocks are concatenated into the one `features` output.
 */
function appendFeatureTaps(ctx: Conversion, main: number, taps: readonly number[]): { name: string; dim: number } {
  const g = ctx.graph;
  // ε keeps an all-zero block (possible after ReLU6 on a blank image) at zero instead of NaN.
  const epsilon = g.floatScalar(1e-12);
  const blocks = [main, ...taps].map((tensor, i) => {
    const block = flattenToOutput(ctx, ctx.value(tensor), i === 0 ? 'features_block_main' : `features_block_${i - 1}`);
    const norm = g.addNode('ReduceL2', [block.name], { axes: attr.ints([1]), keepdims: attr.int(1) }, { name: `${block.name}_norm` });
    const safe = g.addNode('Max', [norm, epsilon], {}, { name: `${block.name}_norm_safe` });
    return { name: g.addNode('Div', [block.name, safe], {}, { name: `${block.name}_normalized` }), dim: block.dim };
  });
  const name = g.addNode('Concat', blocks.map((b) => b.name), { axis: attr.int(1) }, { name: 'features', output: 'features' });
  return { name, dim: blocks.reduce((sum, b) => sum + b.dim, 0) };
}

function isGlobalPool(ctx: Conversion, op: Operator): boolean {
  const code = ctx.opCode(op);
  const input = op.inputs[0];
  if (input === undefined || input < 0) return false;
  const shape = ctx.tensor(input).shape;
  if (shape.length !== 4) return false;
  if (code === BuiltinOperator.AVERAGE_POOL_2D && op.builtinOptions?.kind === 'Pool2DOptions') {
    const o = op.builtinOptions;
    return o.filterHeight >= shape[1]! && o.filterWidth >= shape[2]!;
  }
  if (code === BuiltinOperator.MEAN && op.inputs[1] !== undefined) {
    const axes = new Set(ctx.intConstant(op.inputs[1]).map((a) => (a < 0 ? a + 4 : a)));
    return axes.size === 2 && axes.has(1) && axes.has(2);
  }
  return false;
}
