// The update progress bar's time-left estimate: when it speaks, what it says, and how it reads.
import { describe, expect, it } from 'vitest';
import { EtaTracker, formatTimeLeft } from '../renderer/src/lib/eta.js';
import { translator } from '../renderer/src/lib/i18n/translate.js';

describe('EtaTracker', () => {
  it('says nothing until the phase has run 1.5 s and seen two events after its first', () => {
    const eta = new EtaTracker();
    expect(eta.update({ phase: 'train', done: 0, total: 100, at: 10_000 })).toBeNull();
    // Plenty of time, but one event after the start only.
    expect(eta.update({ phase: 'train', done: 10, total: 100, at: 12_000 })).toBeNull();
    // A second event: now the estimate is given.
    expect(eta.update({ phase: 'train', done: 20, total: 100, at: 14_000 })).toBeCloseTo(16, 6);

    const quick = new EtaTracker();
    quick.update({ phase: 'embed', done: 0, total: 100, at: 0 });
    quick.update({ phase: 'embed', done: 5, total: 100, at: 400 });
    // Enough events, not enough time.
    expect(quick.update({ phase: 'embed', done: 10, total: 100, at: 800 })).toBeNull();
    expect(quick.update({ phase: 'embed', done: 15, total: 100, at: 1400 })).toBeNull();
    expect(quick.update({ phase: 'embed', done: 20, total: 100, at: 1600 })).not.toBeNull();
  });

  it('estimates from the rate since the phase started, so a steady rate gives the exact time left', () => {
    const eta = new EtaTracker();
    // 4 units per second from t = 5 s.
    const answers: Array<number | null> = [];
    for (let i = 0; i <= 40; i++) answers.push(eta.update({ phase: 'train', done: i * 2, total: 200, at: 5000 + i * 500 }));
    // From the first answer on, the time left is (200 − done) / 4 s, to rounding.
    const first = answers.findIndex((value) => value !== null);
    expect(first).toBe(3); // the first event at least 1.5 s into the phase
    for (let i = first; i <= 40; i++) expect(answers[i]).toBeCloseTo((200 - i * 2) / 4, 9);
    // A hiccup (one slow event) moves a whole-phase estimate only a little.
    const afterStall = eta.update({ phase: 'train', done: 82, total: 200, at: 5000 + 40 * 500 + 3000 });
    // 82 units in 23 s → 118 / (82 / 23) ≈ 33.1 s, against 29.5 s at the steady rate.
    expect(afterStall).toBeCloseTo((118 * 23) / 82, 6);
  });

  it('starts over when the phase changes, or when progress goes backwards', () => {
    const eta = new EtaTracker();
    eta.update({ phase: 'embed', done: 0, total: 10, at: 0 });
    eta.update({ phase: 'embed', done: 5, total: 10, at: 1000 });
    expect(eta.update({ phase: 'embed', done: 8, total: 10, at: 2000 })).toBeCloseTo(0.5, 9);
    // New phase: no estimate carried over, and the new phase's own rate is used once it has enough.
    expect(eta.update({ phase: 'train', done: 0, total: 50, at: 2100 })).toBeNull();
    expect(eta.update({ phase: 'train', done: 1, total: 50, at: 3100 })).toBeNull();
    expect(eta.update({ phase: 'train', done: 2, total: 50, at: 4100 })).toBeCloseTo(48, 9);
    // The same phase label begun again (done fell): starts over too.
    expect(eta.update({ phase: 'train', done: 0, total: 50, at: 5000 })).toBeNull();
    expect(eta.update({ phase: 'train', done: 10, total: 50, at: 6000 })).toBeNull();
    // reset() forgets everything.
    eta.reset();
    expect(eta.update({ phase: 'train', done: 20, total: 50, at: 7000 })).toBeNull();
  });

  it('gives no estimate while nothing has progressed, and 0 once the phase is done', () => {
    const eta = new EtaTracker();
    eta.update({ phase: 'train', done: 3, total: 10, at: 0 });
    eta.update({ phase: 'train', done: 3, total: 10, at: 1000 });
    expect(eta.update({ phase: 'train', done: 3, total: 10, at: 2000 })).toBeNull();
    expect(eta.update({ phase: 'train', done: 10, total: 10, at: 3000 })).toBe(0);
  });
});

describe('formatTimeLeft', () => {
  const en = translator('en');
  const ja = translator('ja');
  it('reads as a rough spoken estimate', () => {
    expect(formatTimeLeft(null, en)).toBe('');
    expect(formatTimeLeft(0, en)).toBe('less than 5 s left');
    expect(formatTimeLeft(4.9, en)).toBe('less than 5 s left');
    expect(formatTimeLeft(5, en)).toBe('about 5 s left');
    expect(formatTimeLeft(41, en)).toBe('about 40 s left');
    expect(formatTimeLeft(43, en)).toBe('about 45 s left');
    expect(formatTimeLeft(58, en)).toBe('about 1 min left');
    expect(formatTimeLeft(80, en)).toBe('about 1 min 20 s left');
    expect(formatTimeLeft(83, en)).toBe('about 1 min 20 s left');
    expect(formatTimeLeft(125, en)).toBe('about 2 min 10 s left');
    expect(formatTimeLeft(599, en)).toBe('about 10 min left');
    expect(formatTimeLeft(3598, en)).toBe('about 1 h left');
    expect(formatTimeLeft(3600 + 25 * 60 + 10, en)).toBe('about 1 h 25 min left');
    expect(formatTimeLeft(Number.POSITIVE_INFINITY, en)).toBe('');
    expect(formatTimeLeft(-1, en)).toBe('');
  });

  it('speaks Japanese with the same steps', () => {
    expect(formatTimeLeft(4.9, ja)).toBe('残り5秒未満');
    expect(formatTimeLeft(43, ja)).toBe('残り約45秒');
    expect(formatTimeLeft(80, ja)).toBe('残り約1分20秒');
    expect(formatTimeLeft(3600 + 25 * 60 + 10, ja)).toBe('残り約1時間25分');
  });
});
