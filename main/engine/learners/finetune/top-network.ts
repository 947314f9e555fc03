// The backbone's top (the layers after the fine-tuning cut) as a plain value the finetune learner
// owns: its nodes, its trainable parameters (every float tensor with at least one dimension: conv
// weights and biases) and its constants (e.g. ReLU6's clip bounds). A version stores its own
// parameters, and the same node list is written into training, scoring and export graphs.
import onnxProto from 'onnx-proto';
import { attr, type AttributeValue, type GraphBuilder, type NodeSpec } from '../../onnx/graph-builder.js';
import type { BackboneTop } from '../learner.js';
import { LearnerInputError } from '../learner.js';

const { onnx } = onnxProto;

/** A node of the top as the graph builder takes it (names are the top's own, renamed on use). */
export type TopNode = Pick<NodeSpec, 'opType' | 'inputs' | 'outputs' | 'attributes'>;

export interface TopTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export interface TopNetwork {
  readonly nodes: readonly TopNode[];
  /** The cut activation ([N, C, H, W]) the nodes read, and the features ([N, featureDim]) they compute. */
  readonly input: string;
  readonly output: string;
  readonly cutShape: readonly [number, number, number];
  readonly featureDim: number;
  readonly parameters: readonly TopTensor[];
  readonly constants: readonly TopTensor[];
}

/** Reads a BackboneTop's ONNX model into a TopNetwork (float initializers only, plain attributes). */
export function parseBackboneTop(top: BackboneTop): TopNetwork {
  const graph = onnx.ModelProto.decode(top.model).graph;
  if (!graph) throw new LearnerInputError('the backbone top has no graph');
  const nodes = (graph.node ?? []).map((node): TopNode => {
    if (node.domain) throw new LearnerInputError(`the backbone top uses ${node.domain}.${node.opType}, which the training graphs cannot differentiate`);
    return {
      opType: node.opType ?? '',
      inputs: [...(node.input ?? [])],
      outputs: [...(node.output ?? [])],
      attributes: Object.fromEntries((node.attribute ?? []).map((a) => [a.name ?? '', attributeValue(a)])),
    };
  });
  const parameters: TopTensor[] = [];
  const constants: TopTensor[] = [];
  for (const init of graph.initializer ?? []) {
    if (init.dataType !== onnx.TensorProto.DataType.FLOAT) throw new LearnerInputError(`the backbone top's tensor '${init.name}' is not float32`);
    const dims = (init.dims ?? []).map(Number);
    const tensor = { name: init.name ?? '', dims, data: floatData(init) };
    (dims.length > 0 ? parameters : constants).push(tensor);
  }
  return { nodes, input: top.input, output: top.output, cutShape: top.cutShape, featureDim: top.featureDim, parameters, constants };
}

/** The same network with other parameter values (same order, same sizes). */
export function withParameters(top: TopNetwork, values: readonly Float32Array[]): TopNetwork {
  if (values.length !== top.parameters.length) throw new Error(`expected ${top.parameters.length} parameter tensors, got ${values.length}`);
  return {
    ...top,
    parameters: top.parameters.map((p, i) => {
      if (values[i]!.length !== p.data.length) throw new Error(`parameter '${p.name}': expected ${p.data.length} values, got ${values[i]!.length}`);
      return { ...p, data: values[i]! };
    }),
  };
}

/**
 * Writes the top's nodes into `b`, reading `activations` ([N, C·H·W], one flattened cut
 * activation a row). Parameters are the given graph values (training) or, when omitted, become
 * initializers holding the network's own values (scoring, export). Returns the [N, featureDim]
 * features value. Every name is made unique within `b`, so the top can sit beside other graphs.
 */
export function addTopForward(b: GraphBuilder, top: TopNetwork, activations: string, parameterValues?: readonly string[]): string {
  const [channels, height, width] = top.cutShape;
  const names = new Map<string, string>();
  names.set(top.input, b.addNode('Reshape', [activations, b.int64Vector([-1, channels, height, width])], {}, { name: 'top_input' }));
  top.parameters.forEach((p, i) => names.set(p.name, parameterValues?.[i] ?? b.addFloatInitializer('top_param', p.dims, p.data)));
  for (const c of top.constants) names.set(c.name, b.addFloatInitializer('top_const', c.dims, c.data));
  for (const node of top.nodes) {
    const inputs = node.inputs.map((name) => {
      if (name === '') return '';
      const mapped = names.get(name);
      if (mapped === undefined) throw new Error(`the backbone top reads '${name}', which it neither computes nor holds`);
      return mapped;
    });
    const outputs = b.addMultiOutputNode(node.opType, inputs, node.outputs.length, node.attributes, { name: `top_${node.opType.toLowerCase()}` });
    node.outputs.forEach((name, k) => names.set(name, outputs[k]!));
  }
  const features = names.get(top.output);
  if (!features) throw new Error(`the backbone top does not compute '${top.output}'`);
  return features;
}

function attributeValue(a: onnxProto.onnx.IAttributeProto): AttributeValue {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT:
      return attr.int(Number(a.i ?? 0));
    case T.INTS:
      return attr.ints((a.ints ?? []).map(Number));
    case T.FLOAT:
      return attr.float(a.f ?? 0);
    case T.FLOATS:
      return attr.floats([...(a.floats ?? [])]);
    case T.STRING:
      return attr.string(new TextDecoder().decode(a.s ?? new Uint8Array()));
    default:
      throw new LearnerInputError(`the backbone top has an attribute '${a.name}' of a kind the training graphs do not take`);
  }
}

function floatData(init: onnxProto.onnx.ITensorProto): Float32Array {
  if (init.rawData && init.rawData.length > 0) {
    const raw = init.rawData;
    // Copy: the protobuf buffer is shared and may not be 4-byte aligned.
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  }
  return Float32Array.from(init.floatData ?? []);
}
