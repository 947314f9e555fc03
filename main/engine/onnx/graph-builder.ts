// A small typed builder for ONNX graphs on top of onnx-proto's generated protobuf code.
//
// The graph is kept as plain, inspectable specs (nodes, initializers, inputs, outputs) until
// toModel()/toBytes(), so other passes (e.g. a later reverse-mode autodiff over the same node list)
// can read and extend it without touching protobuf objects.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const DEFAULT_OPSET = 17;
/** IR version 8 (ONNX 1.10+) is what onnx-proto 8.x encodes and what ORT accepts with opset 17. */
export const IR_VERSION = 8;

export type ElementType = 'float32' | 'int64' | 'int32' | 'bool' | 'float64' | 'uint8' | 'int8';
/** Element types of quantized tensors: 8-bit values and 32-bit biases. */
export type QuantizedElementType = 'uint8' | 'int8' | 'int32';
/** A dimension: a fixed size, or a symbolic name such as 'N' for the batch. */
export type Dim = number | string;

export type AttributeValue =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'string'; readonly value: string }
  /** A subgraph (Loop/If/Scan bodies). */
  | { readonly type: 'graph'; readonly value: GraphBuilder };

/** Attribute constructors: ONNX distinguishes int from float, JavaScript numbers do not. */
export const attr = {
  int: (value: number): AttributeValue => ({ type: 'int', value }),
  ints: (value: readonly number[]): AttributeValue => ({ type: 'ints', value }),
  float: (value: number): AttributeValue => ({ type: 'float', value }),
  floats: (value: readonly number[]): AttributeValue => ({ type: 'floats', value }),
  string: (value: string): AttributeValue => ({ type: 'string', value }),
  graph: (value: GraphBuilder): AttributeValue => ({ type: 'graph', value }),
};

export type Attributes = Readonly<Record<string, AttributeValue>>;

export interface NodeSpec {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  /** Value names; '' marks an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Attributes;
}

export interface InitializerSpec {
  readonly name: string;
  readonly elementType: ElementType;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array | Uint8Array | Int8Array | Int32Array;
}

export interface ValueSpec {
  readonly name: string;
  readonly elementType: ElementType;
  readonly shape: readonly Dim[];
}

export interface GraphBuilderOptions {
  opsetVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
}

const ONNX_DATA_TYPE: Record<ElementType, number> = {
  float32: 1 /* FLOAT */,
  uint8: 2 /* UINT8 */,
  int8: 3 /* INT8 */,
  int64: 7 /* INT64 */,
  int32: 6 /* INT32 */,
  bool: 9 /* BOOL */,
  float64: 11 /* DOUBLE */,
};

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly initializers: InitializerSpec[] = [];
  readonly inputs: ValueSpec[] = [];
  readonly outputs: ValueSpec[] = [];
  readonly metadata = new Map<string, string>();

  private readonly usedNames = new Set<string>();
  /** Names kept free for a later exact claim (graph outputs named in an API). */
  private readonly reservedNames = new Set<string>();
  private readonly scalarCache = new Map<string, string>();
  private readonly options: Required<GraphBuilderOptions>;

  constructor(
    readonly graphName: string,
    options: GraphBuilderOptions = {},
  ) {
    this.options = {
      opsetVersion: options.opsetVersion ?? DEFAULT_OPSET,
      producerName: options.producerName ?? 'keizoku',
      producerVersion: options.producerVersion ?? '',
      docString: options.docString ?? '',
    };
  }

  get opsetVersion(): number {
    return this.options.opsetVersion;
  }

  /** `base` if unused, else `base_1`, `base_2`, ...; values and nodes share one namespace. */
  uniqueName(base: string): string {
    const clean = base.length > 0 ? base : 'v';
    const taken = (n: string) => this.usedNames.has(n) || this.reservedNames.has(n);
    let name = clean;
    for (let i = 1; taken(name); i++) name = `${clean}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  /** Keeps `names` out of uniqueName() so that they can later be produced under exactly that name. */
  reserveNames(...names: string[]): void {
    for (const name of names) if (!this.usedNames.has(name)) this.reservedNames.add(name);
  }

  /** Declares a graph input under exactly `name` (inputs are an API, so they are never renamed). */
  addInput(name: string, elementType: ElementType, shape: readonly Dim[]): string {
    this.claimExact(name);
    this.inputs.push({ name, elementType, shape: [...shape] });
    return name;
  }

  /**
   * Makes a value of an enclosing graph usable here under its own name (a subgraph, e.g. a Loop
   * body, reads outer values by name without declaring them as inputs).
   */
  useOuterValue(name: string): string {
    this.claimExact(name);
    return name;
  }

  /** Marks an existing value as a graph output. */
  addOutput(name: string, elementType: ElementType, shape: readonly Dim[]): string {
    if (!this.usedNames.has(name)) throw new Error(`graph output '${name}' is not a value of this graph`);
    this.outputs.push({ name, elementType, shape: [...shape] });
    return name;
  }

  addFloatInitializer(base: string, dims: readonly number[], data: Float32Array | readonly number[]): string {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    checkElementCount(base, dims, values.length);
    const name = this.uniqueName(base);
    this.initializers.push({ name, elementType: 'float32', dims: [...dims], data: values });
    return name;
  }

  addInt64Initializer(base: string, dims: readonly number[], data: BigInt64Array | readonly number[]): string {
    const values = data instanceof BigInt64Array ? data : BigInt64Array.from(data, (v) => BigInt(v));
    checkElementCount(base, dims, values.length);
    const name = this.uniqueName(base);
    this.initializers.push({ name, elementType: 'int64', dims: [...dims], data: values });
    return name;
  }

  /** An 8-bit or int32 initializer (quantized weights, zero points, biases); values must fit the type. */
  addQuantizedInitializer(base: string, elementType: QuantizedElementType, dims: readonly number[], data: ArrayLike<number>): string {
    checkElementCount(base, dims, data.length);
    const [min, max] = elementType === 'uint8' ? [0, 255] : elementType === 'int8' ? [-128, 127] : [-(2 ** 31), 2 ** 31 - 1];
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (!Number.isInteger(v) || v < min || v > max) throw new Error(`initializer '${base}': ${v} is not a ${elementType} value`);
    }
    const values = elementType === 'uint8' ? Uint8Array.from(data) : elementType === 'int8' ? Int8Array.from(data) : Int32Array.from(data);
    const name = this.uniqueName(base);
    this.initializers.push({ name, elementType, dims: [...dims], data: values });
    return name;
  }

  /** A float32 scalar constant, shared between all users of the same value. */
  floatScalar(value: number): string {
    const key = `f:${Object.is(value, -0) ? '-0' : value}`;
    let name = this.scalarCache.get(key);
    if (!name) {
      name = this.addFloatInitializer('const_f', [], [value]);
      this.scalarCache.set(key, name);
    }
    return name;
  }

  /** A 1-D int64 constant (shapes, axes, pads), shared between users of the same values. */
  int64Vector(values: readonly number[]): string {
    const key = `i:${values.join(',')}`;
    let name = this.scalarCache.get(key);
    if (!name) {
      name = this.addInt64Initializer('const_i', [values.length], values);
      this.scalarCache.set(key, name);
    }
    return name;
  }

  /**
   * Adds a single-output node and returns its output's name: exactly `options.output` if given, else
   * a unique name based on `options.name` (default: the op type). The node itself is named
   * `<output>/<OpType>`.
   */
  addNode(
    opType: string,
    inputs: readonly string[],
    attributes: Attributes = {},
    options: { name?: string; output?: string; domain?: string } = {},
  ): string {
    const [output] = this.addMultiOutputNode(opType, inputs, 1, attributes, {
      ...options,
      outputs: options.output === undefined ? undefined : [options.output],
    });
    return output!;
  }

  /** Like addNode with `outputCount` outputs; default names are `<name>`, `<name>_1`, ... */
  addMultiOutputNode(
    opType: string,
    inputs: readonly string[],
    outputCount: number,
    attributes: Attributes = {},
    options: { name?: string; outputs?: readonly string[] | undefined; domain?: string } = {},
  ): string[] {
    for (const input of inputs) {
      if (input !== '' && !this.usedNames.has(input)) {
        throw new Error(`${opType} input '${input}' is not a value of this graph`);
      }
    }
    for (const requested of options.outputs ?? []) this.claimExact(requested);
    const base = options.name ?? opType.toLowerCase();
    const outputs: string[] = [];
    for (let k = 0; k < outputCount; k++) {
      outputs.push(options.outputs?.[k] ?? this.uniqueName(k === 0 ? base : `${base}_${k}`));
    }
    const name = this.uniqueName(`${outputs[0] ?? base}/${opType}`);
    this.nodes.push({ name, opType, domain: options.domain ?? '', inputs: [...inputs], outputs, attributes });
    return outputs;
  }

  setMetadata(key: string, value: string): void {
    this.metadata.set(key, value);
  }

  toGraph(): onnxProto.onnx.GraphProto {
    return new onnx.GraphProto({
      name: this.graphName,
      node: this.nodes.map(toNodeProto),
      initializer: this.initializers.map(toTensorProto),
      input: this.inputs.map(toValueInfo),
      output: this.outputs.map(toValueInfo),
    });
  }

  toModel(): onnxProto.onnx.ModelProto {
    const graph = this.toGraph();
    return new onnx.ModelProto({
      irVersion: IR_VERSION,
      opsetImport: [new onnx.OperatorSetIdProto({ domain: '', version: this.options.opsetVersion })],
      producerName: this.options.producerName,
      producerVersion: this.options.producerVersion,
      docString: this.options.docString,
      graph,
      metadataProps: [...this.metadata].map(([key, value]) => new onnx.StringStringEntryProto({ key, value })),
    });
  }

  toBytes(): Uint8Array {
    return onnx.ModelProto.encode(this.toModel()).finish();
  }

  private claimExact(name: string): void {
    if (this.usedNames.has(name)) throw new Error(`ONNX value name '${name}' is already used`);
    this.reservedNames.delete(name);
    this.usedNames.add(name);
  }
}

function checkElementCount(name: string, dims: readonly number[], count: number): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== count) throw new Error(`initializer '${name}': dims [${dims}] need ${expected} values, got ${count}`);
}

function toNodeProto(node: NodeSpec): onnxProto.onnx.NodeProto {
  return new onnx.NodeProto({
    name: node.name,
    opType: node.opType,
    domain: node.domain,
    input: [...node.inputs],
    output: [...node.outputs],
    attribute: Object.entries(node.attributes).map(([name, value]) => toAttributeProto(name, value)),
  });
}

function toAttributeProto(name: string, a: AttributeValue): onnxProto.onnx.AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case 'int':
      return new onnx.AttributeProto({ name, type: T.INT, i: a.value });
    case 'ints':
      return new onnx.AttributeProto({ name, type: T.INTS, ints: [...a.value] });
    case 'float':
      return new onnx.AttributeProto({ name, type: T.FLOAT, f: a.value });
    case 'floats':
      return new onnx.AttributeProto({ name, type: T.FLOATS, floats: [...a.value] });
    case 'string':
      return new onnx.AttributeProto({ name, type: T.STRING, s: new TextEncoder().encode(a.value) });
    case 'graph':
      return new onnx.AttributeProto({ name, type: T.GRAPH, g: a.value.toGraph() });
  }
}

function toTensorProto(init: InitializerSpec): onnxProto.onnx.TensorProto {
  // raw_data is little-endian by spec; typed arrays are host-endian, and Node runs on little-endian hosts.
  const raw = new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength);
  return new onnx.TensorProto({
    name: init.name,
    dataType: ONNX_DATA_TYPE[init.elementType],
    dims: [...init.dims],
    rawData: raw,
  });
}

function toValueInfo(value: ValueSpec): onnxProto.onnx.ValueInfoProto {
  return new onnx.ValueInfoProto({
    name: value.name,
    type: new onnx.TypeProto({
      tensorType: new onnx.TypeProto.Tensor({
        elemType: ONNX_DATA_TYPE[value.elementType],
        shape: new onnx.TensorShapeProto({
          dim: value.shape.map((d) =>
            typeof d === 'number'
              ? new onnx.TensorShapeProto.Dimension({ dimValue: d })
              : new onnx.TensorShapeProto.Dimension({ dimParam: d }),
          ),
        }),
      }),
    }),
  });
}
