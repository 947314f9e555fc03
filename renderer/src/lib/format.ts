/** "93.4 %" for a fraction, "—" when a group has no samples. */
export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(digits)} %`;
}

/** "+1.2 pt" / "−0.4 pt" between two fractions, or null when either is missing. */
export function pointChange(current: number | null | undefined, previous: number | null | undefined): { text: string; sign: -1 | 0 | 1 } | null {
  if (current === null || current === undefined || previous === null || previous === undefined) return null;
  const points = (current - previous) * 100;
  if (Math.abs(points) < 0.05) return { text: '±0.0 pt', sign: 0 };
  return { text: `${points > 0 ? '+' : '−'}${Math.abs(points).toFixed(1)} pt`, sign: points > 0 ? 1 : -1 };
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

export function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

const PHASE_LABEL: Record<string, string> = {
  backbone: 'Preparing backbone',
  scan: 'Scanning folders',
  embed: 'Embedding',
  train: 'Training',
  evaluate: 'Evaluating',
  commit: 'Saving version',
  watch: 'Watching',
};

export function phaseLabel(phase: string): string {
  return PHASE_LABEL[phase] ?? phase;
}

export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
