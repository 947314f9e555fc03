// The ridge solve (L·Lᵀ)·X = B for the analytic learner's C right-hand sides, blocked so its
// bulk runs as ORT float64 Gemms: for each block of b rows, the product with every row already
// solved (n²·m multiply-adds in all, per direction) is one Gemm, and only the b×b triangular
// substitution stays in JS (n·b·m). Same results as choleskySolveInPlace up to summation order.
import { choleskySolveInPlace } from './cholesky.js';
import { matmul } from './triangular-inverse-onnx.js';

/** Rows per block: the Gemms dominate, and the JS substitution is a few ms in all. */
export const SOLVE_BLOCK = 128;

/** Same contract as choleskySolveInPlace: `b` (n×m row-major) becomes X; `l` holds the lower factor. */
export async function choleskySolveInPlaceOnnx(l: Float64Array, n: number, b: Float64Array, m: number, block = SOLVE_BLOCK): Promise<void> {
  if (b.length < n * m) throw new RangeError(`right-hand side needs ${n * m} entries, has ${b.length}`);
  if (n <= 2 * block) return choleskySolveInPlace(l, n, b, m);

  // Forward: L·Y = B. Block I: Y_I = L_II⁻¹·(B_I − L_{I,<I}·Y_{<I}).
  for (let k = 0; k < n; k += block) {
    const end = Math.min(n, k + block);
    if (k > 0) {
      const panel = new Float64Array((end - k) * k);
      for (let i = k; i < end; i++) panel.set(l.subarray(i * n, i * n + k), (i - k) * k);
      subtractProduct(b, k * m, await matmul(panel, b.subarray(0, k * m), end - k, k, m));
    }
    for (let i = k; i < end; i++) {
      const row = i * m;
      for (let t = k; t < i; t++) {
        const factor = l[i * n + t]!;
        if (factor !== 0) for (let c = 0; c < m; c++) b[row + c]! -= factor * b[t * m + c]!;
      }
      const inverse = 1 / l[i * n + i]!;
      for (let c = 0; c < m; c++) b[row + c]! *= inverse;
    }
  }
  // Backward: Lᵀ·X = Y. Block I: X_I = L_IIᵀ⁻¹·(Y_I − (L_{>I,I})ᵀ·X_{>I}).
  for (let k = Math.floor((n - 1) / block) * block; k >= 0; k -= block) {
    const end = Math.min(n, k + block);
    if (end < n) {
      const panel = new Float64Array((n - end) * (end - k));
      for (let i = end; i < n; i++) panel.set(l.subarray(i * n + k, i * n + end), (i - end) * (end - k));
      subtractProduct(b, k * m, await matmul(panel, b.subarray(end * m, n * m), end - k, n - end, m, true));
    }
    for (let i = end - 1; i >= k; i--) {
      const row = i * m;
      for (let t = i + 1; t < end; t++) {
        const factor = l[t * n + i]!;
        if (factor !== 0) for (let c = 0; c < m; c++) b[row + c]! -= factor * b[t * m + c]!;
      }
      const inverse = 1 / l[i * n + i]!;
      for (let c = 0; c < m; c++) b[row + c]! *= inverse;
    }
  }
}

function subtractProduct(target: Float64Array, offset: number, product: Float64Array): void {
  for (let i = 0; i < product.length; i++) target[offset + i]! -= product[i]!;
}
