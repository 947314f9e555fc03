// The analytic learner's ONNX Runtime Gram update against the JS float64 one it replaced.
import { describe, expect, it } from 'vitest';
import { accumulateGram } from '../main/engine/learners/linalg/gram.js';
import { accumulateGramOnnx } from '../main/engine/learners/linalg/gram-onnx.js';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

describe('accumulateGramOnnx', () => {
  for (const dim of [7, 64]) {
    it(`equals accumulateGram on the upper triangle and leaves the lower one alone (D=${dim})`, async () => {
      const rand = random(dim);
      const count = 50;
      const features = Float32Array.from({ length: count * dim }, () => rand());
      const d = dim + 1;
      const start = Float64Array.from({ length: d * d }, () => rand());
      const js = start.slice();
      const onnx = start.slice();
      accumulateGram(js, features, dim, 3, 41, 1);
      await accumulateGramOnnx(onnx, features, dim, 3, 41, 1);
      let worst = 0;
      let changed = 0;
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          const k = i * d + j;
          if (j >= i) {
            worst = Math.max(worst, Math.abs(onnx[k]! - js[k]!) / Math.max(1, Math.abs(js[k]!)));
            if (js[k] !== start[k]) changed++;
          } else {
            expect(onnx[k]).toBe(start[k]);
          }
        }
      }
      expect(changed).toBe((d * (d + 1)) / 2);
      expect(worst).toBeLessThan(1e-12);
      // The bias entry counts the samples exactly.
      expect(onnx[d * d - 1]! - start[d * d - 1]!).toBeCloseTo(38, 12);
    });
  }

  it('subtracting what was added restores the matrix (sample removal)', async () => {
    const rand = random(5);
    const dim = 9;
    const features = Float32Array.from({ length: 20 * dim }, () => rand());
    const gram = new Float64Array((dim + 1) ** 2);
    await accumulateGramOnnx(gram, features, dim, 0, 20, 1);
    const before = gram.slice();
    await accumulateGramOnnx(gram, features, dim, 5, 12, 1);
    await accumulateGramOnnx(gram, features, dim, 5, 12, -1);
    for (let k = 0; k < gram.length; k++) expect(Math.abs(gram[k]! - before[k]!)).toBeLessThan(1e-12 * Math.max(1, Math.abs(before[k]!)));
  });
});
