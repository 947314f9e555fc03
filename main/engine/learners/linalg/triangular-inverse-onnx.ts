// Inverse of a lower-triangular factor, blocked so its bulk runs as ORT float64 Gemms (the
// analytic learner's λ selection needs diag((G+λD)⁻¹) = column norms of L⁻¹, and W = L⁻ᵀ·L⁻¹·B).
// Block row I of X = L⁻¹ solves L_II·X_I = [−L_{I,<I}·X_{<I} | I]: the product is a Gemm
// (n³/3 multiply-adds in all), the b×b substitution stays in JS (n²·b/2).
import * as ort from 'onnxruntime-node';
import { attr, GraphBuilder } from '../../onnx/graph-builder.js';
import { lazyCpuSession } from './lazy-session.js';

const BLOCK = 128;

/** a (m×k) · b (k×p), or aᵀ·b with transA; float64. */
export function matmulGraph(transA: boolean): GraphBuilder {
  const g = new GraphBuilder(transA ? 'keizoku_matmul_ta' : 'keizoku_matmul');
  const a = g.addInput('a', 'float64', transA ? ['k', 'm'] : ['m', 'k']);
  const b = g.addInput('b', 'float64', ['k', 'p']);
  g.addOutput(g.addNode('Gemm', [a, b], transA ? { transA: attr.int(1) } : {}, { output: 'product' }), 'float64', ['m', 'p']);
  return g;
}

const matmulSession = lazyCpuSession(() => matmulGraph(false));
const matmulTaSession = lazyCpuSession(() => matmulGraph(true));

/** a·b (a m×k, b k×p row-major), or aᵀ·b (a k×m) with transA; on ORT where it runs, else JS. */
export async function matmul(a: Float64Array, b: Float64Array, m: number, k: number, p: number, transA = false): Promise<Float64Array> {
  const session = await (transA ? matmulTaSession() : matmulSession());
  if (session) {
    const out = await session.run({
      a: new ort.Tensor('float64', a, transA ? [k, m] : [m, k]),
      b: new ort.Tensor('float64', b, [k, p]),
    });
    return out.product!.data as Float64Array;
  }
  const out = new Float64Array(m * p);
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < k; t++) {
      const v = transA ? a[t * m + i]! : a[i * k + t]!;
      if (v === 0) continue;
      for (let j = 0; j < p; j++) out[i * p + j]! += v * b[t * p + j]!;
    }
  }
  return out;
}

/**
 * X = L⁻¹ for the n×n row-major lower triangle of `l` (as choleskyInPlace leaves it; the strict
 * upper triangle is not read). Returns X as a full n×n row-major matrix, zero above the diagonal.
 */
export async function lowerTriangularInverse(l: Float64Array, n: number, block = BLOCK): Promise<Float64Array> {
  const x = new Float64Array(n * n);
  for (let r0 = 0; r0 < n; r0 += block) {
    const r1 = Math.min(n, r0 + block);
    const rows = r1 - r0;
    // R = [−L_{I,<I}·X_{<I,<I} | I], rows×r1.
    const rhs = new Float64Array(rows * r1);
    if (r0 > 0) {
      const left = new Float64Array(rows * r0);
      for (let i = 0; i < rows; i++) left.set(l.subarray((r0 + i) * n, (r0 + i) * n + r0), i * r0);
      const known = new Float64Array(r0 * r0);
      for (let i = 0; i < r0; i++) known.set(x.subarray(i * n, i * n + i + 1), i * r0);
      const product = await matmul(left, known, rows, r0, r0);
      for (let i = 0; i < rows; i++) for (let j = 0; j < r0; j++) rhs[i * r1 + j] = -product[i * r0 + j]!;
    }
    for (let i = 0; i < rows; i++) rhs[i * r1 + r0 + i] = 1;
    // Forward substitution with L_II, whole rows at a time (contiguous).
    for (let i = 0; i < rows; i++) {
      const ri = i * r1;
      const li = (r0 + i) * n + r0;
      for (let t = 0; t < i; t++) {
        const c = l[li + t]!;
        if (c === 0) continue;
        const rt = t * r1;
        for (let j = 0; j < r1; j++) rhs[ri + j]! -= c * rhs[rt + j]!;
      }
      const inv = 1 / l[li + i]!;
      for (let j = 0; j < r1; j++) rhs[ri + j]! *= inv;
    }
    for (let i = 0; i < rows; i++) x.set(rhs.subarray(i * r1, i * r1 + r0 + i + 1), (r0 + i) * n);
  }
  return x;
}
