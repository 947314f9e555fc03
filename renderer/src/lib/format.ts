// Numbers, dates and update phases as the UI shows them, in the UI language.
import { formatDateTime, formatNumber, formatPercent, locale, t } from './i18n/locale.svelte.js';
import type { MessageKey } from './i18n/catalog.js';

/** "93.4%" for a fraction (the locale's percent format), "—" when a group has no samples. */
export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '—' : formatPercent(value, digits);
}

/** "+1.2 pt" / "−0.4 pt" between two fractions, or null when either is missing. */
export function pointChange(current: number | null | undefined, previous: number | null | undefined): { text: string; sign: -1 | 0 | 1 } | null {
  if (current === null || current === undefined || previous === null || previous === undefined) return null;
  const points = (current - previous) * 100;
  const magnitude = formatNumber(Math.abs(points), { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  if (Math.abs(points) < 0.05) return { text: t('format.points', { value: `±${formatNumber(0, { minimumFractionDigits: 1 })}` }), sign: 0 };
  return { text: t('format.points', { value: `${points > 0 ? '+' : '−'}${magnitude}` }), sign: points > 0 ? 1 : -1 };
}

export function when(iso: string): string {
  return formatDateTime(iso);
}

const PHASES = new Set(['backbone', 'scan', 'embed', 'train', 'evaluate', 'commit', 'watch']);

/** The update phase's name; an unknown phase (a newer engine) shows as the engine sent it. */
export function phaseLabel(phase: string): string {
  return PHASES.has(phase) ? t(`phase.${phase}` as MessageKey) : phase;
}

export function megabytes(bytes: number): string {
  return formatNumber(bytes / 1024 / 1024, { style: 'unit', unit: 'megabyte', minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

/** Names joined the UI language's way: "a, b, c" / "a、b、c". */
export function list(names: readonly string[]): string {
  return new Intl.ListFormat(locale.current, { style: 'narrow', type: 'conjunction' }).format(names);
}
