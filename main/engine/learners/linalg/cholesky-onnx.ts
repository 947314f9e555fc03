// Blocked Cholesky factorization whose bulk runs on ONNX Runtime. ONNX has no Cholesky op, but
// in the right-looking blocked algorithm nearly all the work (n³/3 of n³/3 + O(n²·b)
// multiply-adds) is the trailing update A₂₂ −= L₂₁·L₂₁ᵀ, a plain float64 Gemm; the small
// diagonal block and the panel solve stay in JS (cholesky.ts), so results equal the unblocked
// factor up to summation order. For each block of b columns at k:
//   L₁₁ = chol(A₁₁)                 b×b, JS
//   L₂₁ = A₂₁·L₁₁⁻ᵀ                 (n−k−b)×b, JS forward substitution per row
//   A₂₂ −= L₂₁·L₂₁ᵀ                  ORT Gemm float64, lower triangle written back
// Measured (D+1 = 1281, 2 cores): see bench `training`, "Analytic learner update".
import * as ort from 'onnxruntime-node';
import { attr, GraphBuilder } from '../../onnx/graph-builder.js';
import { lazyCpuSession } from './lazy-session.js';
import { choleskyInPlace, NotPositiveDefiniteError } from './cholesky.js';

/** Columns per block: large enough that the Gemm dominates, small enough that the JS panel is cheap. */
export const CHOLESKY_BLOCK = 128;

/** l (m × b, float64) → l·lᵀ (m × m). */
export function outerProductGraph(): GraphBuilder {
  const b = new GraphBuilder('keizoku_cholesky_update');
  const l = b.addInput('l', 'float64', ['m', 'b']);
  b.addOutput(b.addNode('Gemm', [l, l], { transB: attr.int(1) }, { output: 'product' }), 'float64', ['m', 'm']);
  return b;
}

/** The process-wide trailing-update session, or null where ONNX Runtime cannot run it. */
const updateSession = lazyCpuSession(outerProductGraph);

/**
 * Same contract as choleskyInPlace: overwrites the lower triangle of the n×n row-major `a` with
 * L (A = L·Lᵀ), reads only the lower triangle, leaves the strict upper triangle as is, and
 * throws NotPositiveDefiniteError with the failing pivot. Falls back to choleskyInPlace for
 * small matrices or where ONNX Runtime is unavailable.
 */
export async function choleskyInPlaceOnnx(a: Float64Array, n: number, block = CHOLESKY_BLOCK): Promise<void> {
  if (a.length < n * n) throw new RangeError(`matrix needs ${n * n} entries, has ${a.length}`);
  const ready = n > 2 * block ? await updateSession() : null;
  if (!ready) return choleskyInPlace(a, n);
  for (let k = 0; k < n; k += block) {
    const b = Math.min(block, n - k);
    const diagonal = factorDiagonalBlock(a, n, k, b);
    const below = n - k - b;
    if (below === 0) break;
    const panel = solvePanel(a, n, k, b, diagonal);
    const product = (await ready.run({ l: new ort.Tensor('float64', panel, [below, b]) })).product!.data as Float64Array;
    const first = k + b;
    for (let i = 0; i < below; i++) {
      const row = (first + i) * n + first;
      const source = i * below;
      for (let j = 0; j <= i; j++) a[row + j]! -= product[source + j]!;
    }
  }
}

/** Factors the b×b diagonal block at k in place (lower triangle) and returns it contiguous. */
function factorDiagonalBlock(a: Float64Array, n: number, k: number, b: number): Float64Array {
  const block = new Float64Array(b * b);
  for (let i = 0; i < b; i++) block.set(a.subarray((k + i) * n + k, (k + i) * n + k + i + 1), i * b);
  try {
    choleskyInPlace(block, b);
  } catch (error) {
    if (error instanceof NotPositiveDefiniteError) throw new NotPositiveDefiniteError(k + error.pivot);
    throw error;
  }
  for (let i = 0; i < b; i++) a.set(block.subarray(i * b, i * b + i + 1), (k + i) * n + k);
  return block;
}

/** L₂₁ = A₂₁·L₁₁⁻ᵀ, written into `a` and returned as a contiguous (n−k−b)×b matrix. Rows are
 * independent; four at a time, so each row of L₁₁ read serves four substitutions. */
function solvePanel(a: Float64Array, n: number, k: number, b: number, diagonal: Float64Array): Float64Array {
  const below = n - k - b;
  const panel = new Float64Array(below * b);
  for (let i = 0; i < below; i++) panel.set(a.subarray((k + b + i) * n + k, (k + b + i) * n + k + b), i * b);
  let i = 0;
  for (; i + 4 <= below; i += 4) {
    const o0 = i * b, o1 = o0 + b, o2 = o1 + b, o3 = o2 + b;
    for (let j = 0; j < b; j++) {
      const dj = j * b;
      let s0 = panel[o0 + j]!, s1 = panel[o1 + j]!, s2 = panel[o2 + j]!, s3 = panel[o3 + j]!;
      for (let t = 0; t < j; t++) {
        const l = diagonal[dj + t]!;
        s0 -= panel[o0 + t]! * l;
        s1 -= panel[o1 + t]! * l;
        s2 -= panel[o2 + t]! * l;
        s3 -= panel[o3 + t]! * l;
      }
      const d = diagonal[dj + j]!;
      panel[o0 + j] = s0 / d;
      panel[o1 + j] = s1 / d;
      panel[o2 + j] = s2 / d;
      panel[o3 + j] = s3 / d;
    }
  }
  for (; i < below; i++) {
    const out = i * b;
    for (let j = 0; j < b; j++) {
      const dj = j * b;
      let s = panel[out + j]!;
      for (let t = 0; t < j; t++) s -= panel[out + t]! * diagonal[dj + t]!;
      panel[out + j] = s / diagonal[dj + j]!;
    }
  }
  for (let r = 0; r < below; r++) a.set(panel.subarray(r * b, r * b + b), (k + b + r) * n + k);
  return panel;
}
