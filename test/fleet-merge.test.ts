// The fleet's exact merge and its message format, without a broker: statistics of disjoint parts
// summed equal one learner trained on all (analytic and ncm), duplicates present locally are
// subtracted once, and hostile or corrupt messages are refused with a reason.
import { describe, expect, it } from 'vitest';
import { subtractOwn } from '../main/engine/fleet/aggregator.js';
import { decodeFleetMessage, encodeFleetMessage, FleetMessageError } from '../main/engine/fleet/message.js';
import { noiseRidgeShift, solveFleet, statisticsOfState, sumStatistics } from '../main/engine/fleet/merge.js';
import { addGaussianNoise, gaussianSigma } from '../main/engine/fleet/privacy.js';
import type { FleetLearnerId } from '../main/engine/fleet/statistics.js';
import type { ComposedState } from '../main/engine/learners/compose.js';
import type { AnalyticState } from '../main/engine/learners/analytic.js';
import type { NcmState } from '../main/engine/learners/ncm.js';
import { noFeatures, type LabeledFeatures } from '../main/engine/learners/learner.js';
import { getLearner } from '../main/engine/learners/registry.js';
import { seededRandom } from '../main/engine/learners/seeded-random.js';
import type { Member } from '../main/engine/store/versions.js';

const DIM = 24;
const CLASSES = ['ant', 'bee', 'cat', 'dog'];
const BACKBONE = { key: 'test-backbone', precision: 'float', featureDim: DIM };

interface Sample extends Member {
  vector: Float32Array;
}

function makeSamples(count: number, seed: number): Sample[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const className = CLASSES[i % CLASSES.length]!;
    const vector = Float32Array.from({ length: DIM }, (_, j) => random() + (j === CLASSES.indexOf(className) ? 2 : 0));
    return { contentHash: `hash-${seed}-${i}`, className, vector };
  });
}

function labeled(samples: readonly Member[], all: readonly Sample[]): LabeledFeatures {
  const byHash = new Map(all.map((s) => [s.contentHash, s]));
  const features = new Float32Array(samples.length * DIM);
  samples.forEach((s, i) => features.set(byHash.get(s.contentHash)!.vector, i * DIM));
  return { features, labels: samples.map((s) => s.className), count: samples.length, dim: DIM };
}

async function train(learnerId: FleetLearnerId, samples: readonly Sample[], all: readonly Sample[]) {
  const learner = getLearner(learnerId);
  const classes = [...new Set(samples.map((s) => s.className))].sort();
  return learner.update(null, { classNames: classes, added: labeled(samples, all), removed: noFeatures(DIM) });
}

function columns(state: ComposedState, learnerId: FleetLearnerId): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const C = state.classNames.length;
  const matrix = learnerId === 'analytic' ? (state.core as AnalyticState).weights : (state.core as NcmState).sums;
  state.classNames.forEach((name, c) => out.set(name, Array.from({ length: matrix.length / C }, (_, r) => matrix[r * C + c]!)));
  return out;
}

function expectClose(a: Map<string, number[]>, b: Map<string, number[]>, tolerance: number) {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  const scale = Math.max(...[...b.values()].flat().map(Math.abs));
  for (const [name, column] of a) column.forEach((v, i) => expect(Math.abs(v - b.get(name)![i]!) / scale).toBeLessThan(tolerance));
}

describe.each(['analytic', 'ncm'] as const)('%s: merging disjoint devices', (learnerId) => {
  const all = makeSamples(90, 1);
  const parts = [0, 1, 2].map((d) => all.filter((_, i) => i % 3 === d));

  it('equals one learner trained on all the samples', async () => {
    const joint = (await train(learnerId, all, all)) as ComposedState;
    const states = await Promise.all(parts.map((p) => train(learnerId, p, all)));
    const stats = states.map((state, d) => statisticsOfState(learnerId, state, BACKBONE, parts[d]!));
    const { state, overlap } = await solveFleet({
      learner: getLearner(learnerId), learnerId, localState: states[0]!, local: stats[0]!, localTrain: parts[0]!, remotes: stats.slice(1),
      classOrder: (union) => [...union], features: (m) => labeled(m, all), featureDim: DIM,
    });
    expect(overlap).toEqual({ samples: 0, corrected: 0, uncorrected: 0 });
    expect((state as ComposedState).core).toMatchObject({ counts: (joint.core as AnalyticState).counts });
    expectClose(columns(state as ComposedState, learnerId), columns(joint, learnerId), 1e-9);
  });

  it('counts a sample held by two devices once where it is present locally, and reports the rest', async () => {
    const duplicate = parts[1]![0]!;
    const local = [...parts[0]!, duplicate];
    const joint = (await train(learnerId, all, all)) as ComposedState;
    const localState = await train(learnerId, local, all);
    const remoteStates = await Promise.all(parts.slice(1).map((p) => train(learnerId, p, all)));
    const localStats = statisticsOfState(learnerId, localState, BACKBONE, local);
    const remotes = remoteStates.map((s, i) => statisticsOfState(learnerId, s, BACKBONE, parts[i + 1]!));
    const { state, overlap } = await solveFleet({
      learner: getLearner(learnerId), learnerId, localState, local: localStats, localTrain: local, remotes,
      classOrder: (union) => [...union], features: (m) => labeled(m, all), featureDim: DIM,
    });
    expect(overlap).toEqual({ samples: 1, corrected: 1, uncorrected: 0 });
    expectClose(columns(state as ComposedState, learnerId), columns(joint, learnerId), 1e-9);

    // A device holding neither copy cannot subtract: it says so.
    const other = await solveFleet({
      learner: getLearner(learnerId), learnerId, localState: remoteStates[1]!, local: remotes[1]!, localTrain: parts[2]!, remotes: [localStats, remotes[0]!],
      classOrder: (union) => [...union], features: (m) => labeled(m, all), featureDim: DIM,
    });
    expect(other.overlap).toEqual({ samples: 1, corrected: 0, uncorrected: 1 });
  });

  it('round-trips through the message format, and the aggregator sum minus a device is the others', async () => {
    const states = await Promise.all(parts.map((p) => train(learnerId, p, all)));
    const stats = states.map((state, d) => statisticsOfState(learnerId, state, BACKBONE, parts[d]!));
    const payload = encodeFleetMessage({ fleet: 'f', device: 'd0', version: 3, publishedAt: 'now' }, stats[0]!);
    const decoded = decodeFleetMessage(payload);
    expect(decoded.header).toMatchObject({ device: 'd0', version: 3, learner: learnerId, dim: DIM, sketch: 'sha256-64-exact' });
    expect(decoded.statistics.cross).toEqual(stats[0]!.cross);
    expect(decoded.statistics.sketch).toEqual(stats[0]!.sketch);
    const names = [...CLASSES];
    const total = sumStatistics(learnerId, DIM, stats, names);
    const aggregate = { ...stats[0]!, classNames: names, counts: total.counts, gram: total.gram, cross: total.cross, sketch: names.map((n) => stats.flatMap((s) => s.sketch[s.classNames.indexOf(n)] ?? []).sort()) };
    const others = subtractOwn(aggregate, stats[0]!);
    const expected = sumStatistics(learnerId, DIM, stats.slice(1), names);
    expect(others.counts).toEqual(expected.counts);
    others.cross.forEach((v, i) => expect(Math.abs(v - expected.cross[i]!)).toBeLessThan(1e-9));
  });
});

describe('hostile and corrupt messages', () => {
  const good = async () => {
    const all = makeSamples(12, 2);
    const state = await train('analytic', all, all);
    return { payload: encodeFleetMessage({ fleet: 'f', device: 'd', version: 1, publishedAt: 'now' }, statisticsOfState('analytic', state, BACKBONE, all)), state, all };
  };

  it('refuses each with a reason, never crashing', async () => {
    const { payload } = await good();
    expect(() => decodeFleetMessage(new Uint8Array(0))).toThrow(FleetMessageError);
    expect(() => decodeFleetMessage(payload.subarray(0, payload.length >> 1))).toThrow(/decompress/);
    expect(() => decodeFleetMessage(new TextEncoder().encode('hello'))).toThrow(/not a Keizoku fleet message/);
    const flipped = payload.slice();
    flipped[flipped.length - 10]! ^= 0xff;
    expect(() => decodeFleetMessage(flipped)).toThrow(FleetMessageError);
  });

  it('refuses statistics with non-finite values or the wrong size', async () => {
    const { state, all } = await good();
    const stats = statisticsOfState('analytic', state, BACKBONE, all);
    const withNaN = { ...stats, cross: stats.cross.map((v, i) => (i === 0 ? Number.NaN : v)) };
    expect(() => decodeFleetMessage(encodeFleetMessage({ fleet: 'f', device: 'd', version: 1, publishedAt: 'now' }, withNaN))).toThrow(/non-finite/);
    const short = { ...stats, cross: stats.cross.subarray(1) };
    expect(() => decodeFleetMessage(encodeFleetMessage({ fleet: 'f', device: 'd', version: 1, publishedAt: 'now' }, short))).toThrow(/values, expected/);
  });
});

describe('Gaussian noise', () => {
  it('states σ from (ε, δ) and the sensitivity √7, leaves no sketch, and widens λ only for noisy messages', async () => {
    expect(gaussianSigma(1, 1e-5)).toBeCloseTo((Math.sqrt(7) * Math.sqrt(2 * Math.log(1.25e5))) / 1, 10);
    expect(() => gaussianSigma(2, 1e-5)).toThrow(/epsilon/);
    const all = makeSamples(20, 3);
    const state = await train('analytic', all, all);
    const stats = statisticsOfState('analytic', state, BACKBONE, all);
    const noisy = addGaussianNoise(stats, 0.5);
    expect(noisy.sketch.flat()).toEqual([]);
    expect(noisy.cross).not.toEqual(stats.cross);
    const message = decodeFleetMessage(encodeFleetMessage({ fleet: 'f', device: 'd', version: 1, publishedAt: 'now', noise: { sigma: 0.5, epsilon: 1, delta: 1e-5 } }, noisy));
    expect(message.header.sketch).toBe('none');
    expect(message.statistics.noiseSigma).toBe(0.5);
    expect(noiseRidgeShift([stats], DIM)).toBe(0);
    expect(noiseRidgeShift([message.statistics], DIM)).toBeCloseTo(2 * 0.5 * Math.sqrt(DIM + 1), 12);
  });
});
