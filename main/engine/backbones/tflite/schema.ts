// A hand-written reader for the subset of the TFLite flatbuffer schema (tensorflow/compiler/mlir/lite/
// schema/schema.fbs) that an image-classification backbone needs. Field ids below are the declaration
// order in schema.fbs; a union occupies two ids (its `_type` byte, then the table offset).
//
// Every read is bounds-checked: flatbuffers' ByteBuffer silently returns garbage past the end of the
// array, and a truncated download must fail with a clear message instead of a nonsense graph.
import { ByteBuffer } from 'flatbuffers';

export class TfliteFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TfliteFormatError';
  }
}

export enum TensorType {
  FLOAT32 = 0,
  FLOAT16 = 1,
  INT32 = 2,
  UINT8 = 3,
  INT64 = 4,
  STRING = 5,
  BOOL = 6,
  INT16 = 7,
  COMPLEX64 = 8,
  INT8 = 9,
  FLOAT64 = 10,
}

/** The builtin operators this importer knows by name; other codes are reported by number. */
export enum BuiltinOperator {
  ADD = 0,
  AVERAGE_POOL_2D = 1,
  CONCATENATION = 2,
  CONV_2D = 3,
  DEPTHWISE_CONV_2D = 4,
  DEQUANTIZE = 6,
  FULLY_CONNECTED = 9,
  L2_NORMALIZATION = 11,
  LOGISTIC = 14,
  MAX_POOL_2D = 17,
  MUL = 18,
  RELU = 19,
  RELU_N1_TO_1 = 20,
  RELU6 = 21,
  RESHAPE = 22,
  RESIZE_BILINEAR = 23,
  SOFTMAX = 25,
  CUSTOM = 32,
  PAD = 34,
  TRANSPOSE = 39,
  MEAN = 40,
  SUB = 41,
  SQUEEZE = 43,
  STRIDED_SLICE = 45,
  QUANTIZE = 114,
  HARD_SWISH = 117,
}

export function builtinOperatorName(code: number): string {
  return BuiltinOperator[code] ?? `BUILTIN_${code}`;
}

export enum Padding {
  SAME = 0,
  VALID = 1,
}

export enum ActivationFunctionType {
  NONE = 0,
  RELU = 1,
  RELU_N1_TO_1 = 2,
  RELU6 = 3,
  TANH = 4,
  SIGN_BIT = 5,
}

// ---------------------------------------------------------------------------------------------
// Decoded model (plain objects; constant data stays a view into the file, never copied here)

export interface QuantizationParameters {
  min: number[];
  max: number[];
  scale: number[];
  zeroPoint: number[];
  /** The QuantizationDetails union type; 0 means none (custom quantization is not supported). */
  detailsType: number;
  quantizedDimension: number;
}

export interface Tensor {
  shape: number[];
  /** Same as `shape` but with -1 for dimensions that are dynamic (usually the batch). */
  shapeSignature: number[] | undefined;
  type: TensorType;
  buffer: number;
  name: string;
  quantization: QuantizationParameters | undefined;
}

export interface OperatorCode {
  /** max(deprecated_builtin_code, builtin_code): old files fill only the first, new files both. */
  builtinCode: number;
  customCode: string | undefined;
  version: number;
}

export interface Conv2DOptions {
  kind: 'Conv2DOptions';
  padding: Padding;
  strideW: number;
  strideH: number;
  fusedActivation: ActivationFunctionType;
  dilationW: number;
  dilationH: number;
}
export interface DepthwiseConv2DOptions {
  kind: 'DepthwiseConv2DOptions';
  padding: Padding;
  strideW: number;
  strideH: number;
  depthMultiplier: number;
  fusedActivation: ActivationFunctionType;
  dilationW: number;
  dilationH: number;
}
export interface Pool2DOptions {
  kind: 'Pool2DOptions';
  padding: Padding;
  strideW: number;
  strideH: number;
  filterWidth: number;
  filterHeight: number;
  fusedActivation: ActivationFunctionType;
}
export interface FullyConnectedOptions {
  kind: 'FullyConnectedOptions';
  fusedActivation: ActivationFunctionType;
  weightsFormat: number;
  keepNumDims: boolean;
}
export interface SoftmaxOptions {
  kind: 'SoftmaxOptions';
  beta: number;
}
export interface ConcatenationOptions {
  kind: 'ConcatenationOptions';
  axis: number;
  fusedActivation: ActivationFunctionType;
}
export interface AddOptions {
  kind: 'AddOptions';
  fusedActivation: ActivationFunctionType;
}
export interface ReshapeOptions {
  kind: 'ReshapeOptions';
  newShape: number[] | undefined;
}
export interface ReducerOptions {
  kind: 'ReducerOptions';
  keepDims: boolean;
}
export interface SqueezeOptions {
  kind: 'SqueezeOptions';
  squeezeDims: number[];
}
/** Options tables without fields this importer needs (PadOptions, QuantizeOptions, ...), or unknown ones. */
export interface OtherOptions {
  kind: 'other';
  unionType: number;
}

export type BuiltinOptions =
  | Conv2DOptions
  | DepthwiseConv2DOptions
  | Pool2DOptions
  | FullyConnectedOptions
  | SoftmaxOptions
  | ConcatenationOptions
  | AddOptions
  | ReshapeOptions
  | ReducerOptions
  | SqueezeOptions
  | OtherOptions;

export interface Operator {
  opcodeIndex: number;
  /** Tensor indices; -1 marks an omitted optional input (e.g. no bias). */
  inputs: number[];
  outputs: number[];
  builtinOptionsType: number;
  builtinOptions: BuiltinOptions | undefined;
}

export interface SubGraph {
  tensors: Tensor[];
  inputs: number[];
  outputs: number[];
  operators: Operator[];
  name: string | undefined;
}

export interface Buffer {
  /** Constant bytes (a view into the model file), or undefined for the empty buffer / activations. */
  data: Uint8Array | undefined;
}

export interface Metadata {
  name: string | undefined;
  buffer: number;
}

export interface Model {
  version: number;
  operatorCodes: OperatorCode[];
  subgraphs: SubGraph[];
  description: string | undefined;
  buffers: Buffer[];
  metadata: Metadata[];
}

// ---------------------------------------------------------------------------------------------
// Bounds-checked table access

/** Union type ids of BuiltinOptions: 1-based position in the `union BuiltinOptions` declaration. */
const BuiltinOptionsType = {
  Conv2DOptions: 1,
  DepthwiseConv2DOptions: 2,
  Pool2DOptions: 5,
  FullyConnectedOptions: 8,
  SoftmaxOptions: 9,
  ConcatenationOptions: 10,
  AddOptions: 11,
  ReshapeOptions: 17,
  ReducerOptions: 27,
  SqueezeOptions: 30,
} as const;

class CheckedBuffer {
  readonly bb: ByteBuffer;
  readonly size: number;

  constructor(readonly bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.length;
  }

  require(offset: number, length: number, what: string): void {
    if (!Number.isInteger(offset) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new TfliteFormatError(
        `corrupt or truncated TFLite file: ${what} at byte ${offset} (+${length}) lies outside the ${this.size}-byte file`,
      );
    }
  }

  /** Follows the uoffset stored at `offset`. */
  indirect(offset: number, what: string): number {
    this.require(offset, 4, what);
    const target = offset + this.bb.readUint32(offset);
    this.require(target, 4, what);
    return target;
  }
}

class TableReader {
  private readonly vtable: number;
  private readonly vtableSize: number;

  constructor(
    private readonly buf: CheckedBuffer,
    readonly pos: number,
    private readonly what: string,
  ) {
    buf.require(pos, 4, what);
    this.vtable = pos - buf.bb.readInt32(pos);
    buf.require(this.vtable, 4, `${what} vtable`);
    this.vtableSize = buf.bb.readUint16(this.vtable);
    buf.require(this.vtable, this.vtableSize, `${what} vtable`);
  }

  /** Absolute position of field `id`, or 0 when the field is absent (it then has its default). */
  private field(id: number, width: number): number {
    const slot = 4 + 2 * id;
    if (slot + 2 > this.vtableSize) return 0;
    const rel = this.buf.bb.readUint16(this.vtable + slot);
    if (rel === 0) return 0;
    this.buf.require(this.pos + rel, width, `${this.what} field ${id}`);
    return this.pos + rel;
  }

  int8(id: number, fallback = 0): number {
    const at = this.field(id, 1);
    return at ? this.buf.bb.readInt8(at) : fallback;
  }
  uint8(id: number, fallback = 0): number {
    const at = this.field(id, 1);
    return at ? this.buf.bb.readUint8(at) : fallback;
  }
  bool(id: number, fallback = false): boolean {
    const at = this.field(id, 1);
    return at ? this.buf.bb.readUint8(at) !== 0 : fallback;
  }
  int32(id: number, fallback = 0): number {
    const at = this.field(id, 4);
    return at ? this.buf.bb.readInt32(at) : fallback;
  }
  uint32(id: number, fallback = 0): number {
    const at = this.field(id, 4);
    return at ? this.buf.bb.readUint32(at) : fallback;
  }
  float32(id: number, fallback = 0): number {
    const at = this.field(id, 4);
    return at ? this.buf.bb.readFloat32(at) : fallback;
  }
  uint64(id: number, fallback = 0): number {
    const at = this.field(id, 8);
    return at ? Number(this.buf.bb.readUint64(at)) : fallback;
  }

  string(id: number): string | undefined {
    const bytes = this.vector(id, 1);
    return bytes ? new TextDecoder().decode(this.buf.bytes.subarray(bytes.start, bytes.start + bytes.length)) : undefined;
  }

  table(id: number, what: string): TableReader | undefined {
    const at = this.field(id, 4);
    return at ? new TableReader(this.buf, this.buf.indirect(at, what), what) : undefined;
  }

  /** Start and element count of a vector field, bounds-checked for `elementSize`-byte elements. */
  private vector(id: number, elementSize: number): { start: number; length: number } | undefined {
    const at = this.field(id, 4);
    if (!at) return undefined;
    const header = this.buf.indirect(at, `${this.what} vector ${id}`);
    const length = this.buf.bb.readUint32(header);
    this.buf.require(header + 4, length * elementSize, `${this.what} vector ${id}`);
    return { start: header + 4, length };
  }

  tables(id: number, what: string): TableReader[] {
    const v = this.vector(id, 4);
    if (!v) return [];
    const out: TableReader[] = [];
    for (let i = 0; i < v.length; i++) {
      const slot = v.start + 4 * i;
      out.push(new TableReader(this.buf, this.buf.indirect(slot, `${what}[${i}]`), `${what}[${i}]`));
    }
    return out;
  }

  int32s(id: number): number[] | undefined {
    const v = this.vector(id, 4);
    if (!v) return undefined;
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.buf.bb.readInt32(v.start + 4 * i);
    return out;
  }
  float32s(id: number): number[] {
    const v = this.vector(id, 4);
    if (!v) return [];
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = this.buf.bb.readFloat32(v.start + 4 * i);
    return out;
  }
  int64s(id: number): number[] {
    const v = this.vector(id, 8);
    if (!v) return [];
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = Number(this.buf.bb.readInt64(v.start + 8 * i));
    return out;
  }
  /** A ubyte vector as a view into the file (no copy). */
  bytes(id: number): Uint8Array | undefined {
    const v = this.vector(id, 1);
    return v ? this.buf.bytes.subarray(v.start, v.start + v.length) : undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Table decoders. The numbers are schema.fbs field ids.

function readQuantization(t: TableReader): QuantizationParameters {
  return {
    min: t.float32s(0),
    max: t.float32s(1),
    scale: t.float32s(2),
    zeroPoint: t.int64s(3),
    detailsType: t.uint8(4), // details: QuantizationDetails union = ids 4 (type) and 5 (value)
    quantizedDimension: t.int32(6),
  };
}

function readTensor(t: TableReader): Tensor {
  const quantization = t.table(4, 'Tensor.quantization');
  return {
    shape: t.int32s(0) ?? [],
    type: t.int8(1) as TensorType,
    buffer: t.uint32(2),
    name: t.string(3) ?? '',
    quantization: quantization ? readQuantization(quantization) : undefined,
    // 5 is_variable, 6 sparsity
    shapeSignature: t.int32s(7),
  };
}

function readOperatorCode(t: TableReader): OperatorCode {
  return {
    builtinCode: Math.max(t.int8(0), t.int32(3)),
    customCode: t.string(1),
    version: t.int32(2, 1),
  };
}

function readBuiltinOptions(type: number, t: TableReader | undefined): BuiltinOptions | undefined {
  if (!t) return undefined;
  switch (type) {
    case BuiltinOptionsType.Conv2DOptions:
      return {
        kind: 'Conv2DOptions',
        padding: t.int8(0),
        strideW: t.int32(1),
        strideH: t.int32(2),
        fusedActivation: t.int8(3),
        dilationW: t.int32(4, 1),
        dilationH: t.int32(5, 1),
      };
    case BuiltinOptionsType.DepthwiseConv2DOptions:
      return {
        kind: 'DepthwiseConv2DOptions',
        padding: t.int8(0),
        strideW: t.int32(1),
        strideH: t.int32(2),
        depthMultiplier: t.int32(3),
        fusedActivation: t.int8(4),
        dilationW: t.int32(5, 1),
        dilationH: t.int32(6, 1),
      };
    case BuiltinOptionsType.Pool2DOptions:
      return {
        kind: 'Pool2DOptions',
        padding: t.int8(0),
        strideW: t.int32(1),
        strideH: t.int32(2),
        filterWidth: t.int32(3),
        filterHeight: t.int32(4),
        fusedActivation: t.int8(5),
      };
    case BuiltinOptionsType.FullyConnectedOptions:
      return {
        kind: 'FullyConnectedOptions',
        fusedActivation: t.int8(0),
        weightsFormat: t.int8(1),
        keepNumDims: t.bool(2),
      };
    case BuiltinOptionsType.SoftmaxOptions:
      return { kind: 'SoftmaxOptions', beta: t.float32(0) };
    case BuiltinOptionsType.ConcatenationOptions:
      return { kind: 'ConcatenationOptions', axis: t.int32(0), fusedActivation: t.int8(1) };
    case BuiltinOptionsType.AddOptions:
      return { kind: 'AddOptions', fusedActivation: t.int8(0) };
    case BuiltinOptionsType.ReshapeOptions:
      return { kind: 'ReshapeOptions', newShape: t.int32s(0) };
    case BuiltinOptionsType.ReducerOptions:
      return { kind: 'ReducerOptions', keepDims: t.bool(0) };
    case BuiltinOptionsType.SqueezeOptions:
      return { kind: 'SqueezeOptions', squeezeDims: t.int32s(0) ?? [] };
    default:
      return { kind: 'other', unionType: type };
  }
}

function readOperator(t: TableReader): Operator {
  const builtinOptionsType = t.uint8(3); // builtin_options union = ids 3 (type) and 4 (value)
  return {
    opcodeIndex: t.uint32(0),
    inputs: t.int32s(1) ?? [],
    outputs: t.int32s(2) ?? [],
    builtinOptionsType,
    builtinOptions: readBuiltinOptions(builtinOptionsType, t.table(4, 'Operator.builtin_options')),
  };
}

function readSubGraph(t: TableReader): SubGraph {
  return {
    tensors: t.tables(0, 'SubGraph.tensors').map(readTensor),
    inputs: t.int32s(1) ?? [],
    outputs: t.int32s(2) ?? [],
    operators: t.tables(3, 'SubGraph.operators').map(readOperator),
    name: t.string(4),
  };
}

function readBuffer(t: TableReader, file: CheckedBuffer): Buffer {
  const data = t.bytes(0);
  if (data && data.length > 0) return { data };
  // Models over 2 GB keep constants after the flatbuffer: offset (from file start) and size; valid if offset > 1.
  const offset = t.uint64(1);
  const size = t.uint64(2);
  if (offset > 1) {
    file.require(offset, size, 'Buffer.offset/size');
    return { data: file.bytes.subarray(offset, offset + size) };
  }
  return { data: undefined };
}

/** Parses a .tflite file. Throws TfliteFormatError for anything that is not a readable TFLite model. */
export function readModel(bytes: Uint8Array): Model {
  if (bytes.length < 8) throw new TfliteFormatError(`not a TFLite model: only ${bytes.length} bytes`);
  const file = new CheckedBuffer(bytes);
  // The file identifier follows the root offset; TFLite's own verifier insists on it too.
  const identifier = String.fromCharCode(bytes[4]!, bytes[5]!, bytes[6]!, bytes[7]!);
  if (identifier !== 'TFL3') throw new TfliteFormatError('not a TFLite model: missing "TFL3" file identifier');
  const root = new TableReader(file, file.indirect(0, 'Model'), 'Model');
  const model: Model = {
    version: root.uint32(0),
    operatorCodes: root.tables(1, 'Model.operator_codes').map(readOperatorCode),
    subgraphs: root.tables(2, 'Model.subgraphs').map(readSubGraph),
    description: root.string(3),
    buffers: root.tables(4, 'Model.buffers').map((b) => readBuffer(b, file)),
    // 5 metadata_buffer (deprecated in favour of 6)
    metadata: root.tables(6, 'Model.metadata').map((m) => ({ name: m.string(0), buffer: m.uint32(1) })),
  };
  if (model.version !== 3) {
    throw new TfliteFormatError(`unsupported TFLite schema version ${model.version} (expected 3)`);
  }
  return model;
}
