// Constant tensors of a TFLite model as float32 (weights, biases) or plain integers (shapes, axes).
// Quantized constants are dequantized here, once: the ONNX graph runs in float and never re-quantizes.
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
