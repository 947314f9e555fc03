// Row-wise graph fragments shared by the learners' exported heads. They reproduce the JS kernels
// exactly, edge cases included (an all-zero row stays zero instead of becoming NaN).
import { attr, type GraphBuilder } from './graph-builder.js';

/** Smallest norm we divide by: below any real feature norm, above 0 so a zero row stays 0. */
const TINY_NORM = 1e-30;

/** Sum of squares over axis 1 (kept), written for the builder's opset (axes became an input in 18). */
export function rowSumOfSquares(graph: GraphBuilder, x: string): string {
  return graph.opsetVersion >= 18
    ? graph.addNode('ReduceSumSquare', [x, graph.int64Vector([1])], { keepdims: attr.int(1) }, { name: 'row_sum_squares' })
    : graph.addNode('ReduceSumSquare', [x], { axes: attr.ints([1]), keepdims: attr.int(1) }, { name: 'row_sum_squares' });
}

/** x / ‖x‖₂ per row of an [N, D] value. */
export function l2NormalizeRows(graph: GraphBuilder, x: string): string {
  const norm = graph.addNode('Sqrt', [rowSumOfSquares(graph, x)], {}, { name: 'row_norm' });
  const safe = graph.addNode('Max', [norm, graph.floatScalar(TINY_NORM)], {}, { name: 'row_norm_safe' });
  return graph.addNode('Div', [x, safe], {}, { name: 'l2_normalized' });
}

/** [N, D] · W ([D, C]) + b ([C]) with constant W and b. */
export function affineRows(graph: GraphBuilder, x: string, weights: Float32Array, bias: Float32Array, name: string): string {
  const outDim = bias.length;
  const inDim = weights.length / outDim;
  const w = graph.addFloatInitializer(`${name}_weight`, [inDim, outDim], weights);
  const b = graph.addFloatInitializer(`${name}_bias`, [outDim], bias);
  const product = graph.addNode('MatMul', [x, w], {}, { name: `${name}_matmul` });
  return graph.addNode('Add', [product, b], {}, { name });
}
