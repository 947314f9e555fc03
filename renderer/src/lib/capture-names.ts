// File names for frames captured from a camera: ordinary sample files that sort by time.

/**
 * `capture-2026-12-02T22-51-03-123Z-0001.jpg`: the capture time in UTC (colons and dots
 * become dashes, which every filesystem accepts) and a sequence number within the recording,
 * so two frames of the same millisecond still differ. The import never overwrites either way.
 */
export function captureFileName(at: Date, sequence: number): string {
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  const counter = String(Math.max(0, Math.trunc(sequence))).padStart(4, '0');
  return `capture-${stamp}-${counter}.jpg`;
}
