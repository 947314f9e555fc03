// The analytic learner's scores x·W + b on ONNX Runtime: one float64 Gemm per chunk of rows (the
// float32 features cast up first), so the arithmetic stays float64 as in linearScores (analytic.ts)
// but runs in ORT's blocked, multi-threaded kernel instead of a JS triple loop, which cost
// O(rows · D · C) on one thread (held-out scoring at 1,000 classes took seconds).
import * as ort from 'onnxruntime-node';
import { attr, GraphBuilder } from '../../onnx/graph-builder.js';
import { lazyCpuSession } from './lazy-session.js';

const DOUBLE = 11;
/** Rows per Gemm: bounds the float64 copies of the chunk (rows × (D + C) × 8 bytes), which ORT's arena keeps. */
const ROWS_PER_CHUNK = 256;

/** x (n × d, float32), w (d × c, float64), b (c, float64) → x·w + b (n × c, float64). */
export function scoresGraph(): GraphBuilder {
  const g = new GraphBuilder('keizoku_linear_scores');
  const x = g.addInput('x', 'float32', ['n', 'd']);
  const w = g.addInput('w', 'float64', ['d', 'c']);
  const b = g.addInput('b', 'float64', ['c']);
  const wide = g.addNode('Cast', [x], { to: attr.int(DOUBLE) });
  g.addOutput(g.addNode('Gemm', [wide, w, b], {}, { output: 'scores' }), 'float64', ['n', 'c']);
  return g;
}

const scoresSession = lazyCpuSession(scoresGraph);

/**
 * Same contract as linearScores: count × C float32 scores, −∞ for classes without samples;
 * `weights` holds W (dim × C, row-major) then the bias (C). Null where ONNX Runtime cannot run
 * the graph, so the caller uses linearScores.
 */
export async function linearScoresOnnx(
  features: Float32Array, count: number, dim: number, weights: Float64Array, counts: readonly number[],
): Promise<Float32Array | null> {
  const C = counts.length;
  if (count === 0 || C === 0) return null;
  const session = await scoresSession();
  if (!session) return null;
  const w = new ort.Tensor('float64', weights.subarray(0, dim * C), [dim, C]);
  const b = new ort.Tensor('float64', weights.subarray(dim * C, dim * C + C), [C]);
  const out = new Float32Array(count * C);
  for (let start = 0; start < count; start += ROWS_PER_CHUNK) {
    const end = Math.min(count, start + ROWS_PER_CHUNK);
    const x = new ort.Tensor('float32', features.subarray(start * dim, end * dim), [end - start, dim]);
    const scores = (await session.run({ x, w, b })).scores!.data as Float64Array;
    for (let r = 0; r < end - start; r++) {
      const row = (start + r) * C;
      for (let c = 0; c < C; c++) out[row + c] = counts[c]! > 0 ? scores[r * C + c]! : -Infinity;
    }
  }
  return out;
}
