// Time left in the running phase of an update, from the rate observed since the phase started.
// The rate over the whole phase (not over the last event or two) keeps the estimate steady, and
// nothing is estimated until the phase has run long enough to say something: the first steps
// of a phase (a session opening, a first batch compiling) are slower than the rest. DOM-free, so
// the tests drive it with made-up timestamps.
import type { Translate } from './i18n/translate.js';

export interface ProgressSample {
  phase: string;
  done: number;
  total: number;
  /** when the event arrived, in ms (any monotonic clock: performance.now() in the app) */
  at: number;
}

export interface EtaOptions {
  /** no estimate before the phase has run this long (ms) */
  minElapsedMs?: number;
  /** no estimate before this many events of the phase after the one that started it */
  minEvents?: number;
}

export const ETA_MIN_ELAPSED_MS = 1500;
export const ETA_MIN_EVENTS = 2;

/** Fed with every progress event of one task; answers the seconds left in the current phase, or null. */
export class EtaTracker {
  private readonly minElapsedMs: number;
  private readonly minEvents: number;
  private start: ProgressSample | null = null;
  private last: ProgressSample | null = null;
  private events = 0;

  constructor(options: EtaOptions = {}) {
    this.minElapsedMs = options.minElapsedMs ?? ETA_MIN_ELAPSED_MS;
    this.minEvents = options.minEvents ?? ETA_MIN_EVENTS;
  }

  /** Forget the phase (a new task starts). */
  reset(): void {
    this.start = null;
    this.last = null;
    this.events = 0;
  }

  /**
   * Record one event; seconds left in its phase, or null while there is too little evidence.
   * A new phase, or progress that went backwards (the phase began again), starts over.
   */
  update(sample: ProgressSample): number | null {
    const start = this.start;
    const last = this.last;
    this.last = { ...sample };
    if (!start || !last || start.phase !== sample.phase || sample.done < last.done || sample.at < last.at) {
      this.start = { ...sample };
      this.events = 0;
      return null;
    }
    this.events += 1;
    const elapsed = sample.at - start.at;
    const progressed = sample.done - start.done;
    if (this.events < this.minEvents || elapsed < this.minElapsedMs || progressed <= 0) return null;
    if (!(sample.total > 0)) return null;
    const remaining = Math.max(0, sample.total - sample.done);
    const msPerUnit = elapsed / progressed;
    return (remaining * msPerUnit) / 1000;
  }
}

/**
 * "about 1 min 20 s left", "about 40 s left", "less than 5 s left" (in the language `say`
 * speaks); '' for null.
 */
export function formatTimeLeft(seconds: number | null, say: Translate): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 5) return say('eta.underFive');
  // Coarser steps as the estimate grows: its precision is no better than that anyway.
  if (seconds < 57.5) return say('eta.seconds', { seconds: Math.max(5, Math.round(seconds / 5) * 5) });
  if (seconds < 3595) {
    const tens = Math.round(seconds / 10) * 10;
    const minutes = Math.floor(tens / 60);
    const rest = tens % 60;
    return rest > 0 ? say('eta.minutesSeconds', { minutes, seconds: rest }) : say('eta.minutes', { minutes });
  }
  const totalMinutes = Math.round(seconds / 60);
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  return minutes > 0 ? say('eta.hoursMinutes', { hours, minutes }) : say('eta.hours', { hours });
}
