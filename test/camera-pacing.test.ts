// The camera screens' timing rules: capture rate bounds, batches of captured frames that
// never lose one, at most one live prediction in flight (frames dropped meanwhile), the rate
// shown, and the captured files' names.
import { describe, expect, it } from 'vitest';
import { CAPTURE_RATE, CaptureBatcher, clampRate, LIVE_RATE, RateMeter, SingleFlight, tickIntervalMs } from '../renderer/src/lib/camera-pacing.js';
import { captureFileName } from '../renderer/src/lib/capture-names.js';
import { unusableNameReason } from '../main/engine/use-cases/import-files.js';

const frame = (name: string, bytes = 10) => ({ fileName: name, bytes: new Blob([new Uint8Array(bytes)]) });

describe('rates', () => {
  it('keeps the capture rate within 1–15 frames/s and whole, 8 by default', () => {
    expect(clampRate(0, CAPTURE_RATE)).toBe(1);
    expect(clampRate(-3, CAPTURE_RATE)).toBe(1);
    expect(clampRate(40, CAPTURE_RATE)).toBe(15);
    expect(clampRate(7.6, CAPTURE_RATE)).toBe(8);
    expect(clampRate(Number.NaN, CAPTURE_RATE)).toBe(8);
    expect(tickIntervalMs(8, CAPTURE_RATE)).toBe(125);
    expect(tickIntervalMs(100, CAPTURE_RATE)).toBeCloseTo(1000 / 15);
  });

  it('lets the live preview ask for up to 30 predictions/s, 10 by default', () => {
    expect(clampRate(100, LIVE_RATE)).toBe(30);
    expect(clampRate(Number.POSITIVE_INFINITY, LIVE_RATE)).toBe(10);
    expect(tickIntervalMs(10, LIVE_RATE)).toBe(100);
  });
});

describe('CaptureBatcher', () => {
  it('is due a second after its oldest frame, and hands every frame over once', () => {
    const batcher = new CaptureBatcher(1000, 1_000_000);
    expect(batcher.isDue(0)).toBe(false);
    batcher.add(frame('a'), 100);
    batcher.add(frame('b'), 600);
    expect(batcher.isDue(1099)).toBe(false);
    expect(batcher.isDue(1100)).toBe(true);
    expect(batcher.take().map((f) => f.fileName)).toEqual(['a', 'b']);
    expect(batcher.waiting).toBe(0);
    expect(batcher.isDue(5000)).toBe(false);
    // The age restarts with the next frame.
    batcher.add(frame('c'), 5000);
    expect(batcher.isDue(5999)).toBe(false);
    expect(batcher.take().map((f) => f.fileName)).toEqual(['c']);
  });

  it('is due early once the waiting bytes reach the budget', () => {
    const batcher = new CaptureBatcher(1000, 25);
    batcher.add(frame('a', 10), 0);
    batcher.add(frame('b', 10), 1);
    expect(batcher.isDue(2)).toBe(false);
    batcher.add(frame('c', 10), 2);
    expect(batcher.isDue(3)).toBe(true);
    expect(batcher.take()).toHaveLength(3);
  });
});

describe('SingleFlight', () => {
  it('runs one task at a time, drops the frames that come meanwhile, and frees itself on failure', async () => {
    const gate = new SingleFlight();
    let release!: (value: string) => void;
    const first = gate.run(() => new Promise<string>((resolve) => (release = resolve)));
    expect(first).not.toBeNull();
    expect(gate.busy).toBe(true);
    let ran = 0;
    expect(gate.run(async () => ran++)).toBeNull();
    expect(gate.run(async () => ran++)).toBeNull();
    expect(ran).toBe(0);
    expect(gate.dropped).toBe(2);
    release('done');
    expect(await first).toBe('done');
    expect(gate.busy).toBe(false);
    expect(gate.completed).toBe(1);

    await expect(gate.run(() => Promise.reject(new Error('engine said no')))).rejects.toThrow('engine said no');
    expect(gate.busy).toBe(false);
    await expect(
      gate.run(() => {
        throw new Error('threw before a promise');
      }),
    ).rejects.toThrow('threw before a promise');
    expect(gate.busy).toBe(false);
    expect(await gate.run(async () => 'again')).toBe('again');
  });
});

describe('RateMeter', () => {
  it('measures events per second over its window and falls to zero when they stop', () => {
    const meter = new RateMeter(3000);
    expect(meter.perSecond(0)).toBe(0);
    for (let t = 0; t <= 2000; t += 200) meter.mark(t); // 5 per second
    expect(meter.perSecond(2000)).toBeCloseTo(5);
    expect(meter.perSecond(2400)).toBeLessThan(5);
    expect(meter.perSecond(10_000)).toBe(0);
  });
});

describe('captureFileName', () => {
  it('names a frame by its UTC time and sequence, with a name the import accepts', () => {
    const at = new Date(Date.UTC(2026, 11, 2, 22, 51, 3, 123));
    const name = captureFileName(at, 1);
    expect(name).toBe('capture-2026-12-02T22-51-03-123Z-0001.jpg');
    expect(unusableNameReason(name)).toBeNull();
    expect(captureFileName(at, 2)).not.toBe(name);
    expect(captureFileName(at, 12345)).toBe('capture-2026-12-02T22-51-03-123Z-12345.jpg');
    // Names sort in capture order.
    const later = captureFileName(new Date(at.getTime() + 1), 1);
    expect([later, name].sort()).toEqual([name, later]);
  });
});
