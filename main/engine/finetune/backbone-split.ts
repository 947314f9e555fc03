// Fine-tuning the top of a backbone trains only the layers after a cut; everything before it is
// frozen, so each sample's activation at the cut is computed once and cached, and training never
// decodes an image again. This splits an imported backbone model at a named tensor into the
// frozen bottom (image → cut) and the trainable top (cut → features), as two ONNX models that
// together compute exactly what the whole model computes.
import onnxProto from 'onnx-proto';
import { featureSubgraph } from '../export/feature-subgraph.js';
import { floatValueInfo } from '../onnx/float-value-info.js';

const { onnx } = onnxProto;
type ModelProto = onnxProto.onnx.ModelProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

/** MobileNetV2 (the catalog's default family): the input of the last inverted-residual block, 7×7×160. */
export const MOBILENET_V2_DEFAULT_CUT = 'MobilenetV2/expanded_conv_15/add';

export interface BackboneSplit {
  /** image → cut activation: `inputName` in, `cut` out */
  bottom: ModelProto;
  /** cut activation → features: `cut` in, `featuresName` out */
  top: ModelProto;
  /** the top's nodes and weights, for the training graphs to rebuild with trainable parameters */
  topNodes: NodeProto[];
  topInitializers: TensorProto[];
}

export class BackboneSplitError extends Error {}

/**
 * Splits `model` at the tensor `cut`. Refuses a cut that is not a clean separator: every value
 * the top reads must be the cut itself, a weight, or computed in the top (a residual connection
 * that skips over the cut would need a second cached tensor).
 */
export function splitBackbone(model: ModelProto, options: { inputName: string; featuresName: string; cut: string }): BackboneSplit {
  const { inputName, featuresName, cut } = options;
  const graph = model.graph;
  if (!graph) throw new BackboneSplitError('the backbone model has no graph');
  if (!(graph.node ?? []).some((node) => (node.output ?? []).includes(cut))) throw new BackboneSplitError(`no tensor named '${cut}' in the backbone`);
  const bottomPart = featureSubgraph(model, cut);
  const wholePart = featureSubgraph(model, featuresName);
  const inBottom = new Set(bottomPart.nodes);
  const topNodes = wholePart.nodes.filter((node) => !inBottom.has(node));
  if (topNodes.length === 0) throw new BackboneSplitError(`'${cut}' does not come before '${featuresName}'`);

  const topInputs = new Set(topNodes.flatMap((node) => node.input ?? []));
  const topInitializers = (graph.initializer ?? []).filter((init) => topInputs.has(init.name ?? ''));
  const available = new Set([cut, ...topInitializers.map((init) => init.name ?? ''), ...topNodes.flatMap((node) => node.output ?? [])]);
  const crossing = [...topInputs].filter((name) => name !== '' && !available.has(name));
  if (crossing.length > 0) throw new BackboneSplitError(`cutting at '${cut}' leaves the top reading ${crossing.join(', ')} from below the cut`);

  const declared = (name: string) => (graph.output ?? []).find((output) => output.name === name);
  // The cut's shape is whatever the bottom computes; symbolic here, fixed once ONNX Runtime runs it.
  const cutInfo = floatValueInfo(cut, ['N', 'C', 'H', 'W']);
  const part = (name: string, nodes: NodeProto[], initializers: TensorProto[], inputs: onnxProto.onnx.IValueInfoProto[], output: onnxProto.onnx.IValueInfoProto) =>
    new onnx.ModelProto({
      irVersion: model.irVersion,
      opsetImport: model.opsetImport,
      producerName: 'keizoku',
      graph: new onnx.GraphProto({ name, node: nodes, initializer: initializers, input: inputs, output: [output] }),
    });
  const imageInput = (graph.input ?? []).find((input) => input.name === inputName);
  if (!imageInput) throw new BackboneSplitError(`no input named '${inputName}'`);
  return {
    bottom: part('keizoku-bottom', bottomPart.nodes, bottomPart.initializers, [imageInput], cutInfo),
    top: part('keizoku-top', topNodes, topInitializers, [cutInfo], declared(featuresName) ?? floatValueInfo(featuresName, ['N', 'D'])),
    topNodes,
    topInitializers,
  };
}
