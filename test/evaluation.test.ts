import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  accuracyByClass, averageIncrementalAccuracy, bestSoFar, evaluatePredictions, finalAccuracy, hashPosition, splitClassSamples,
} from '../main/engine/evaluation/index.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const hashes = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => sha(`${prefix}-${i}`));
/** A hash with a chosen position in [0, 1), for rule tests. */
const at = (position: number, tail = 'a') => Math.floor(position * 2 ** 52).toString(16).padStart(13, '0') + tail.repeat(51);

describe('splitClassSamples', () => {
  it('places a hash by its first 52 bits', () => {
    expect(hashPosition('0'.repeat(64))).toBe(0);
    expect(hashPosition('8' + '0'.repeat(63))).toBe(0.5);
    expect(hashPosition(at(0.1999))).toBeCloseTo(0.1999, 10);
    expect(() => hashPosition('not-a-hash')).toThrow(/hex/);
  });

  it('is deterministic, order-independent, and holds out about the fraction', () => {
    const all = hashes('class', 5000);
    const split = splitClassSamples(all);
    const reversed = splitClassSamples([...all].reverse());
    expect(new Set(reversed.heldOut)).toEqual(new Set(split.heldOut));
    expect(split.train.length + split.heldOut.length).toBe(5000);
    expect(split.heldOut.length / 5000).toBeGreaterThan(0.18);
    expect(split.heldOut.length / 5000).toBeLessThan(0.22);
    for (const h of split.heldOut) expect(hashPosition(h)).toBeLessThan(0.2);
    const half = splitClassSamples(all, 0.5);
    expect(half.heldOut.length / 5000).toBeCloseTo(0.5, 1);
  });

  it('never holds out a class’s only sample, and holds out one (but not all) once there are two', () => {
    expect(splitClassSamples([at(0.01)])).toEqual({ train: [at(0.01)], heldOut: [] });
    // Neither below the fraction: the lowest position is held out anyway.
    expect(splitClassSamples([at(0.9), at(0.5)])).toEqual({ train: [at(0.9)], heldOut: [at(0.5)] });
    // Both below: the highest position trains.
    expect(splitClassSamples([at(0.05), at(0.1)])).toEqual({ train: [at(0.1)], heldOut: [at(0.05)] });
    // Duplicates count once and stay together.
    expect(splitClassSamples([at(0.05), at(0.05)])).toEqual({ train: [at(0.05), at(0.05)], heldOut: [] });
    expect(splitClassSamples([at(0.9), at(0.5), at(0.9)])).toEqual({ train: [at(0.9), at(0.9)], heldOut: [at(0.5)] });
    expect(splitClassSamples([])).toEqual({ train: [], heldOut: [] });
  });

  it('moves at most one existing sample when a sample is added', () => {
    const existing: string[] = [];
    for (const next of hashes('grow', 60)) {
      const before = splitClassSamples(existing);
      existing.push(next);
      const after = splitClassSamples(existing);
      const moved = before.heldOut.filter((h) => !after.heldOut.includes(h)).length + before.train.filter((h) => !after.train.includes(h)).length;
      expect(moved).toBeLessThanOrEqual(1);
    }
    // Large classes follow the plain rule, so nothing moves at all.
    const big = hashes('big', 200);
    const grown = splitClassSamples([...big, ...hashes('more', 50)]);
    const first = splitClassSamples(big);
    expect(first.heldOut.every((h) => grown.heldOut.includes(h))).toBe(true);
  });

  it('treats fraction 0 as no held-out set and rejects nonsense fractions', () => {
    expect(splitClassSamples(hashes('x', 10), 0).heldOut).toEqual([]);
    expect(() => splitClassSamples(hashes('x', 2), 1)).toThrow(RangeError);
    expect(() => splitClassSamples(hashes('x', 2), Number.NaN)).toThrow(RangeError);
  });
});

describe('evaluatePredictions', () => {
  // Previous version knew cat and dog; this update added bird and dropped fish.
  const truth = ['cat', 'cat', 'cat', 'dog', 'dog', 'bird', 'bird', 'bird', 'bird'];
  const predicted = ['cat', 'dog', 'cat', 'dog', 'dog', 'bird', 'cat', 'bird', 'bird'];
  const report = evaluatePredictions({
    truth, predicted, classNames: ['cat', 'dog', 'bird'], oldClasses: ['cat', 'dog', 'fish'], newClasses: ['bird'],
    reference: { cat: 1, dog: 0.5, fish: 1 },
  });

  it('computes overall, retained, new and per-class accuracy', () => {
    expect(report.sampleCount).toBe(9);
    expect(report.overall).toBeCloseTo(7 / 9, 12);
    expect(report.retained).toBeCloseTo(4 / 5, 12);
    expect(report.new).toBeCloseTo(3 / 4, 12);
    expect(report.perClass).toEqual([
      { className: 'cat', count: 3, correct: 2, accuracy: 2 / 3 },
      { className: 'dog', count: 2, correct: 2, accuracy: 1 },
      { className: 'bird', count: 4, correct: 3, accuracy: 3 / 4 },
    ]);
    expect(accuracyByClass(report)).toEqual({ cat: 2 / 3, dog: 1, bird: 3 / 4 });
  });

  it('builds the confusion matrix in class order, rows true and columns predicted', () => {
    expect(report.confusion).toEqual({
      classes: ['cat', 'dog', 'bird'],
      counts: [
        [2, 1, 0],
        [0, 2, 0],
        [1, 0, 3],
      ],
    });
  });

  it('measures forgetting against the reference: clipped mean, signed per class', () => {
    expect(report.forgetting.perClass).toEqual({ cat: 1 - 2 / 3, dog: 0.5 - 1 });
    expect(report.forgetting.mean).toBeCloseTo((1 / 3 + 0) / 2, 12);
  });

  it('returns null, never NaN, for groups without samples', () => {
    const onlyNew = evaluatePredictions({ truth: ['a', 'b'], predicted: ['a', 'a'], classNames: ['a', 'b', 'c'], newClasses: ['a', 'b'] });
    expect(onlyNew.retained).toBeNull(); // c is old but has no held-out sample
    expect(onlyNew.new).toBe(0.5);
    expect(onlyNew.perClass.find((c) => c.className === 'c')).toEqual({ className: 'c', count: 0, correct: 0, accuracy: null });
    expect(onlyNew.forgetting).toEqual({ mean: null, perClass: {} });
    const empty = evaluatePredictions({ truth: [], predicted: [], newClasses: [] });
    expect(empty).toMatchObject({ sampleCount: 0, overall: null, retained: null, new: null });
    expect(JSON.stringify(empty)).not.toContain('NaN');
  });

  it('defaults old classes to the version’s classes that are not new, and appends unknown names sorted', () => {
    const r = evaluatePredictions({ truth: ['a', 'b', 'z'], predicted: ['a', 'y', 'z'], classNames: ['b', 'a'], newClasses: ['b'] });
    expect(r.retained).toBe(1); // a: 1/1; z is not a class of the version
    expect(r.new).toBe(0);
    expect(r.confusion.classes).toEqual(['b', 'a', 'y', 'z']);
    expect(() => evaluatePredictions({ truth: ['a'], predicted: [], newClasses: [] })).toThrow(RangeError);
  });
});

describe('benchmark summaries', () => {
  it('average incremental and final accuracy', () => {
    expect(averageIncrementalAccuracy([1, 0.8, 0.6])).toBeCloseTo(0.8, 12);
    expect(averageIncrementalAccuracy([1, null, 0.5])).toBe(0.75);
    expect(averageIncrementalAccuracy([])).toBeNull();
    expect(finalAccuracy([1, 0.8, 0.6])).toBe(0.6);
    expect(finalAccuracy([])).toBeNull();
  });

  it('standard forgetting uses the best accuracy so far as the reference', () => {
    const history: Array<Record<string, number | null>> = [{ a: 0.9 }, { a: 0.7, b: 1 }, { a: 0.95, b: null }];
    expect(bestSoFar(history)).toEqual({ a: 0.95, b: 1 });
    const now = evaluatePredictions({
      truth: ['a', 'a', 'b', 'b'], predicted: ['a', 'b', 'b', 'b'], classNames: ['a', 'b'], newClasses: [], reference: bestSoFar(history),
    });
    expect(now.forgetting.perClass.a).toBeCloseTo(0.45, 12);
    expect(now.forgetting.perClass.b).toBe(0);
    expect(now.forgetting.mean).toBeCloseTo(0.225, 12);
  });
});
