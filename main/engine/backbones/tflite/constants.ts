// Constant tensors of a TFLite model as float32 (weights, biases) or plain integers (shapes, axes).
// For the float graph, quantized constants are dequantized here, once: that graph runs in float and
// never re-quantizes. The int8 graph instead takes them as they are stored (quantizedConstant).
import { TensorType, type Tensor } from './schema.js';

export interface FloatConstant {
  shape: number[];
  data: Float32Array;
}

/** Element size in bytes of the tensor types a constant can have here. */
const ELEMENT_BYTES: Partial<Record<TensorType, number>> = {
  [TensorType.FLOAT32]: 4,
  [TensorType.FLOAT16]: 2,
  [TensorType.INT32]: 4,
  [TensorType.UINT8]: 1,
  [TensorType.INT64]: 8,
  [TensorType.INT16]: 2,
  [TensorType.INT8]: 1,
};

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkedView(tensor: Tensor, data: Uint8Array): DataView {
  const size = ELEMENT_BYTES[tensor.type];
  if (size === undefined) throw new Error(`constant '${tensor.name}' has unsupported type ${TensorType[tensor.type]}`);
  const expected = elementCount(tensor.shape) * size;
  if (data.length !== expected) {
    throw new Error(`constant '${tensor.name}' [${tensor.shape}] ${TensorType[tensor.type]} needs ${expected} bytes, buffer has ${data.length}`);
  }
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}

/** Reads raw elements as JavaScript numbers (the buffer may be unaligned, so a DataView, not a typed-array view). */
function readRaw(tensor: Tensor, view: DataView, count: number): Float64Array | Float32Array {
  const out = new Float64Array(count);
  switch (tensor.type) {
    case TensorType.UINT8:
      for (let i = 0; i < count; i++) out[i] = view.getUint8(i);
      return out;
    case TensorType.INT8:
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      return out;
    case TensorType.INT16:
      for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i, true);
      return out;
    case TensorType.INT32:
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
      return out;
    case TensorType.INT64:
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(8 * i, true));
      return out;
    case TensorType.FLOAT16:
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    case TensorType.FLOAT32: {
      const f = new Float32Array(count);
      for (let i = 0; i < count; i++) f[i] = view.getFloat32(4 * i, true);
      return f;
    }
    default:
      throw new Error(`constant '${tensor.name}' has unsupported type ${TensorType[tensor.type]}`);
  }
}

/**
 * A constant as float32: real = (q - zero_point[c]) * scale[c], where c is the index along
 * `quantized_dimension` for per-channel quantization (one scale per channel) or 0 per-tensor.
 * `fallbackScale` supplies per-channel scales for int32 biases written without their own
 * quantization (TFLite defines them as input_scale * weight_scale[c]).
 */
export function floatConstant(tensor: Tensor, data: Uint8Array, fallbackScale?: readonly number[]): FloatConstant {
  const count = elementCount(tensor.shape);
  const raw = readRaw(tensor, checkedView(tensor, data), count);
  if (tensor.type === TensorType.FLOAT32) return { shape: [...tensor.shape], data: raw as Float32Array };
  if (tensor.type === TensorType.FLOAT16) return { shape: [...tensor.shape], data: Float32Array.from(raw) };

  const q = tensor.quantization;
  const scales = q && q.scale.length > 0 ? q.scale : fallbackScale;
  if (!scales || scales.length === 0) {
    throw new Error(`constant '${tensor.name}' is ${TensorType[tensor.type]} without quantization parameters`);
  }
  const zeroPoints = q?.zeroPoint ?? [];
  const out = new Float32Array(count);
  if (scales.length === 1) {
    const scale = scales[0]!;
    const zp = zeroPoints[0] ?? 0;
    for (let i = 0; i < count; i++) out[i] = (raw[i]! - zp) * scale;
    return { shape: [...tensor.shape], data: out };
  }

  // Per-channel: with quantized dimension d, element i belongs to channel floor(i / inner) % channels.
  const axis = q && q.scale.length > 0 ? q.quantizedDimension : 0;
  const channels = tensor.shape[axis];
  if (channels !== scales.length) {
    throw new Error(`constant '${tensor.name}': ${scales.length} scales for dimension ${axis} of size ${channels}`);
  }
  const inner = elementCount(tensor.shape.slice(axis + 1));
  for (let i = 0; i < count; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = (raw[i]! - (zeroPoints[c] ?? zeroPoints[0] ?? 0)) * scales[c]!;
  }
  return { shape: [...tensor.shape], data: out };
}

/** A quantized constant as stored: integer values plus what dequantizes them. */
export interface QuantizedConstant {
  shape: number[];
  type: TensorType.UINT8 | TensorType.INT8 | TensorType.INT32;
  /** The stored integers, in the tensor's (TFLite) element order. */
  values: Float64Array;
  /** One scale per tensor, or one per index along `axis`. */
  scale: number[];
  zeroPoint: number[];
  axis: number;
}

/**
 * A UINT8/INT8/INT32 constant with its quantization parameters, not dequantized; undefined for
 * other types or when the tensor has no scales (`fallbackScale` as in floatConstant: int32
 * biases written without their own quantization).
 */
export function quantizedConstant(tensor: Tensor, data: Uint8Array, fallbackScale?: readonly number[]): QuantizedConstant | undefined {
  if (tensor.type !== TensorType.UINT8 && tensor.type !== TensorType.INT8 && tensor.type !== TensorType.INT32) return undefined;
  const q = tensor.quantization;
  const own = q !== undefined && q.scale.length > 0;
  const scale = own ? q.scale : fallbackScale;
  if (!scale || scale.length === 0) return undefined;
  const axis = own && scale.length > 1 ? q.quantizedDimension : 0;
  if (scale.length > 1 && tensor.shape[axis] !== scale.length) {
    throw new Error(`constant '${tensor.name}': ${scale.length} scales for dimension ${axis} of size ${tensor.shape[axis]}`);
  }
  const zeroPoint = own && q.zeroPoint.length > 0 ? q.zeroPoint : [0];
  const values = readRaw(tensor, checkedView(tensor, data), elementCount(tensor.shape)) as Float64Array;
  return { shape: [...tensor.shape], type: tensor.type, values, scale: [...scale], zeroPoint: [...zeroPoint], axis };
}

/**
 * `c` as symmetric int8 with one scale per index along `axis` (zero point 0), which is what ONNX
 * Runtime's fast integer convolutions take (MLAS "ConvSym": signed weights, every zero point 0; with
 * any other zero point QLinearConv falls back to a generic, much slower depthwise kernel).
 *
 * Each value becomes q - zero_point with the same scale, exact whenever that difference fits in
 * [-128, 127]. A channel where it does not (with per-tensor uint8 weights, the channel holding the
 * tensor's extreme weight: 61 of MobileNetV2's 18,057) gets its scale multiplied by the factor > 1
 * that makes it fit, and its values divided by it and rounded (a bias quantized with input_scale ·
 * weight_scale must then follow the channel's new scale).
 */
export function symmetricInt8(c: QuantizedConstant, axis: number): QuantizedConstant {
  if (c.type === TensorType.INT32) throw new Error('symmetricInt8 is for 8-bit constants');
  if (c.scale.length > 1 && c.axis !== axis) throw new Error(`per-channel constant along axis ${c.axis}, expected ${axis}`);
  const channels = c.shape[axis]!;
  const inner = elementCount(c.shape.slice(axis + 1));
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const zeroPoint = (ch: number) => c.zeroPoint[c.zeroPoint.length > 1 ? ch : 0] ?? 0;
  const scale = (ch: number) => c.scale[c.scale.length > 1 ? ch : 0]!;
  const low = new Array<number>(channels).fill(0);
  const high = new Array<number>(channels).fill(0);
  c.values.forEach((v, i) => {
    const ch = channelOf(i);
    const d = v - zeroPoint(ch);
    if (d < low[ch]!) low[ch] = d;
    if (d > high[ch]!) high[ch] = d;
  });
  const factor = low.map((lo, ch) => Math.max(1, high[ch]! / 127, -lo / 128));
  const values = c.values.map((v, i) => {
    const ch = channelOf(i);
    const d = v - zeroPoint(ch);
    return factor[ch] === 1 ? d : Math.max(-128, Math.min(127, Math.round(d / factor[ch]!)));
  });
  return {
    shape: [...c.shape],
    type: TensorType.INT8,
    values,
    scale: factor.map((f, ch) => Math.fround(scale(ch) * f)),
    zeroPoint: factor.map(() => 0),
    axis,
  };
}

/** An integer constant (shapes, axes, paddings), not dequantized. */
export function intConstant(tensor: Tensor, data: Uint8Array): number[] {
  if (tensor.type !== TensorType.INT32 && tensor.type !== TensorType.INT64) {
    throw new Error(`constant '${tensor.name}' should be INT32 or INT64, is ${TensorType[tensor.type]}`);
  }
  return Array.from(readRaw(tensor, checkedView(tensor, data), elementCount(tensor.shape)));
}

/** out = data transposed so that output axis j is input axis perm[j] (numpy.transpose semantics). */
export function transposeData(data: Float32Array, shape: readonly number[], perm: readonly number[]): FloatConstant {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  if (perm.every((p, j) => p === j)) return { shape: outShape, data };
  const inStrides = new Array<number>(rank);
  for (let k = rank - 1, s = 1; k >= 0; k--) {
    inStrides[k] = s;
    s *= shape[k]!;
  }
  // Strides of the input, visited in output-axis order; then an odometer over the output index.
  const strides = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let dst = 0; dst < out.length; dst++) {
    out[dst] = data[src]!;
    for (let k = rank - 1; k >= 0; k--) {
      index[k]!++;
      src += strides[k]!;
      if (index[k]! < outShape[k]!) break;
      src -= strides[k]! * outShape[k]!;
      index[k] = 0;
    }
  }
  return { shape: outShape, data: out };
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
