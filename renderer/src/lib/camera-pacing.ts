// The timing rules of the camera screens, free of the DOM so they can be tested: the capture
// rate, batching captured frames into import requests, at most one live prediction in flight,
// and the achieved rate.

export interface RateLimits {
  min: number;
  max: number;
  /** used when the value cannot be read */
  fallback: number;
}

/** Frames per second while recording samples. */
export const CAPTURE_RATE: RateLimits = { min: 1, max: 15, fallback: 8 };
/** Predictions per second asked for by the live preview (the engine may answer fewer). */
export const LIVE_RATE: RateLimits = { min: 1, max: 30, fallback: 10 };

/** A whole number within the limits; anything unreadable is the fallback. */
export function clampRate(rate: number, limits: RateLimits): number {
  if (!Number.isFinite(rate)) return limits.fallback;
  return Math.min(limits.max, Math.max(limits.min, Math.round(rate)));
}

/** Milliseconds between ticks at `rate` per second (clamped). */
export function tickIntervalMs(rate: number, limits: RateLimits): number {
  return 1000 / clampRate(rate, limits);
}

export interface CapturedFrame {
  fileName: string;
  bytes: Blob;
}

/**
 * Holds captured frames until a batch is due: after `maxAgeMs` since the oldest waiting frame,
 * or once the waiting bytes reach `maxBytes` (the import request's budget), so recording sends
 * about one request a second instead of one per frame. `take` empties it, for the last batch
 * on release.
 */
export class CaptureBatcher {
  private frames: CapturedFrame[] = [];
  private bytes = 0;
  private oldestAt: number | null = null;

  constructor(
    private readonly maxAgeMs = 1000,
    private readonly maxBytes = 16 * 1024 * 1024,
  ) {}

  add(frame: CapturedFrame, now: number): void {
    if (this.frames.length === 0) this.oldestAt = now;
    this.frames.push(frame);
    this.bytes += frame.bytes.size;
  }

  get waiting(): number {
    return this.frames.length;
  }

  isDue(now: number): boolean {
    if (this.frames.length === 0 || this.oldestAt === null) return false;
    return now - this.oldestAt >= this.maxAgeMs || this.bytes >= this.maxBytes;
  }

  take(): CapturedFrame[] {
    const taken = this.frames;
    this.frames = [];
    this.bytes = 0;
    this.oldestAt = null;
    return taken;
  }
}

/**
 * Runs one task at a time and drops what arrives meanwhile: a live camera makes frames
 * faster than the engine may answer, and a queue of stale frames would only add lag.
 */
export class SingleFlight {
  private inFlight = false;
  dropped = 0;
  completed = 0;

  get busy(): boolean {
    return this.inFlight;
  }

  /** Starts `task` unless one is running (then counts a dropped frame and returns null). */
  run<T>(task: () => Promise<T>): Promise<T> | null {
    if (this.inFlight) {
      this.dropped++;
      return null;
    }
    this.inFlight = true;
    let started: Promise<T>;
    try {
      started = task();
    } catch (error) {
      this.inFlight = false;
      return Promise.reject(error as Error);
    }
    return started.finally(() => {
      this.inFlight = false;
      this.completed++;
    });
  }
}

/** Events per second over the last `windowMs` (for "predictions/s" and "frames/s"). */
export class RateMeter {
  private readonly times: number[] = [];

  constructor(private readonly windowMs = 3000) {}

  mark(now: number): void {
    this.times.push(now);
    this.prune(now);
  }

  perSecond(now: number): number {
    this.prune(now);
    if (this.times.length < 2) return 0;
    // (n − 1) intervals between the first event and now, so the rate falls when events stop.
    const span = now - this.times[0]!;
    return span <= 0 ? 0 : ((this.times.length - 1) * 1000) / span;
  }

  private prune(now: number): void {
    while (this.times.length > 0 && now - this.times[0]! > this.windowMs) this.times.shift();
  }
}
