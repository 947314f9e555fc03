// Temperature scaling: the fitted T recovers the temperature that generated the labels.
import { describe, expect, it } from 'vitest';
import { confidences, fitTemperature, meanNegativeLogLikelihood } from '../main/engine/evaluation/calibration.js';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

describe('temperature calibration', () => {
  it('recovers the temperature labels were drawn with, and beats T = 1 on their likelihood', () => {
    const rand = random(7);
    const classes = 5;
    const count = 4000;
    const trueTemperature = 0.08; // ridge-like scores: a spread of ~0.3 decides the class
    const scores = Float32Array.from({ length: count * classes }, () => rand() * 0.6);
    const labels = new Int32Array(count);
    for (let n = 0; n < count; n++) {
      const p = confidences(scores.subarray(n * classes, (n + 1) * classes), trueTemperature);
      let u = rand();
      let c = 0;
      while (c < classes - 1 && (u -= p[c]!) > 0) c++;
      labels[n] = c;
    }
    const fitted = fitTemperature(scores, labels, classes);
    expect(fitted).toBeGreaterThan(trueTemperature * 0.85);
    expect(fitted).toBeLessThan(trueTemperature * 1.15);
    expect(meanNegativeLogLikelihood(scores, labels, classes, fitted)).toBeLessThan(meanNegativeLogLikelihood(scores, labels, classes, 1));
  });

  it('finds the minimum: no temperature on a fine grid from 1e-4 to 100 has a lower likelihood loss', () => {
    const rand = random(11);
    for (const [classes, count, spread] of [[3, 50, 4], [40, 300, 0.3], [200, 120, 0.05]] as const) {
      const scores = Float32Array.from({ length: count * classes }, () => rand() * spread);
      const labels = Int32Array.from({ length: count }, (_, n) => (rand() < 0.6 ? (n * 7) % classes : Math.floor(rand() * classes)));
      const fitted = fitTemperature(scores, labels, classes);
      const best = meanNegativeLogLikelihood(scores, labels, classes, fitted);
      for (let k = 0; k <= 600; k++) {
        const temperature = Math.exp(Math.log(1e-4) + (k / 600) * (Math.log(100) - Math.log(1e-4)));
        expect(best).toBeLessThanOrEqual(meanNegativeLogLikelihood(scores, labels, classes, temperature) + 1e-9);
      }
    }
  });

  it('ignores impossible classes (−Infinity scores) and returns 1 when there is nothing to fit', () => {
    const scores = Float32Array.from([0.9, 0.1, -Infinity, 0.2, 0.8, -Infinity]);
    const fitted = fitTemperature(scores, Int32Array.from([0, 1]), 3);
    expect(Number.isFinite(fitted)).toBe(true);
    expect(confidences(scores.subarray(0, 3), fitted)[2]).toBe(0);
    expect(fitTemperature(new Float32Array(0), new Int32Array(0), 3)).toBe(1);
  });
});
