// Cuts a backbone model down to what computes its feature output, so an exported model carries no
// ImageNet classifier (smaller file, and its value names such as `probabilities` are free).
import onnxProto from 'onnx-proto';

type ModelProto = onnxProto.onnx.ModelProto;
type NodeProto = onnxProto.onnx.INodeProto;

/** Nodes (in their original, topological order) and initializers that `output` depends on. */
export function featureSubgraph(model: ModelProto, output: string): { nodes: NodeProto[]; initializers: onnxProto.onnx.ITensorProto[] } {
  const graph = model.graph;
  if (!graph) throw new Error('the backbone model has no graph');
  const nodes = graph.node ?? [];
  // A node with a subgraph (Loop, If, Scan) may read outer values implicitly: keep everything then.
  const hasSubgraphs = nodes.some((node) => (node.attribute ?? []).some((a) => a.g || (a.graphs && a.graphs.length > 0)));
  const needed = new Set<string>([output]);
  const kept = new Array<boolean>(nodes.length).fill(hasSubgraphs);
  if (!hasSubgraphs) {
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i]!;
      if (!(node.output ?? []).some((name) => needed.has(name))) continue;
      kept[i] = true;
      for (const name of node.input ?? []) if (name) needed.add(name);
    }
  }
  const keptNodes = nodes.filter((_, i) => kept[i]);
  const used = new Set(keptNodes.flatMap((node) => node.input ?? []));
  return { nodes: keptNodes, initializers: (graph.initializer ?? []).filter((init) => used.has(init.name ?? '')) };
}

/** Every value name the nodes, initializers and inputs of a graph use. */
export function valueNames(nodes: readonly NodeProto[], initializers: readonly onnxProto.onnx.ITensorProto[], inputs: readonly string[]): Set<string> {
  const names = new Set(inputs);
  for (const node of nodes) {
    for (const name of [...(node.input ?? []), ...(node.output ?? [])]) if (name) names.add(name);
    if (node.name) names.add(node.name);
  }
  for (const init of initializers) if (init.name) names.add(init.name);
  return names;
}
