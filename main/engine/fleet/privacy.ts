// Optional Gaussian noise on published statistics (the Gaussian mechanism, differential privacy
// at the level of one training sample, add/remove adjacency).
//
// One sample contributes x̃x̃ᵀ to G, x̃eᵧᵀ to the class sums and 1 to one class count, with
// x̃ = [x, 1] and ‖x‖ = 1 (L2-normalized), so ‖x̃‖² = 2. L2 sensitivity of what is released:
//   G upper triangle: ≤ ‖x̃x̃ᵀ‖_F = 2;  cross: ‖x̃‖ = √2;  counts: 1   →  Δ₂ = √(4 + 2 + 1) = √7
// σ = Δ₂·√(2·ln(1.25/δ))/ε gives (ε, δ)-DP for ε ≤ 1 (Dwork & Roth, Thm A.1) for one release.
// Each publish of changed statistics is another release: k publishes compose to about (kε, kδ).
// The exact content sketch would reveal membership outright, so a noisy message carries none
// (overlap between devices is then not detected) and its counts are noisy too.
// Noise comes from the OS's cryptographic generator: a predictable seed would let anyone subtract it.

import { randomFillSync } from 'node:crypto';
import type { FleetStatistics } from './statistics.js';

export const SENSITIVITY_L2 = Math.sqrt(7);

export function gaussianSigma(epsilon: number, delta: number): number {
  if (!(epsilon > 0 && epsilon <= 1)) throw new RangeError(`epsilon must be in (0, 1] for the Gaussian mechanism's guarantee, got ${epsilon}`);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1), got ${delta}`);
  return (SENSITIVITY_L2 * Math.sqrt(2 * Math.log(1.25 / delta))) / epsilon;
}

/** A copy of `stats` with N(0, σ²) added to every released value (G's upper triangle, class sums, counts) and no sketch. */
export function addGaussianNoise(stats: FleetStatistics, sigma: number): FleetStatistics {
  const normal = gaussianSource();
  let gram: Float64Array | null = null;
  if (stats.gram) {
    const n = stats.dim + 1;
    gram = stats.gram.slice();
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) gram[i * n + j]! += sigma * normal();
  }
  const cross = stats.cross.slice();
  for (let i = 0; i < cross.length; i++) cross[i]! += sigma * normal();
  const counts = stats.counts.map((n) => Math.max(0, Math.round(n + sigma * normal())));
  return { ...stats, gram, cross, counts, sketch: stats.classNames.map(() => []) };
}

/** Standard normal draws (Box–Muller) from cryptographically random uniforms. */
function gaussianSource(): () => number {
  const buffer = new Uint32Array(4096);
  let index = buffer.length;
  let spare: number | null = null;
  const uniform = () => {
    if (index >= buffer.length) {
      randomFillSync(buffer);
      index = 0;
    }
    return (buffer[index++]! + 1) / 4294967297; // in (0, 1): never 0, so log is finite
  };
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}
