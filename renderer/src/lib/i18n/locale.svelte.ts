// The UI language: the user's choice (Settings, kept in localStorage), else the
// browser's/OS's preferred languages, else English. `t` reads reactive state, so
// markup that calls it re-renders when the language changes.
import { LOCALES, type Locale, type MessageKey } from './catalog.js';
import { message, pluralKey, type MessageParams, type PluralBase } from './translate.js';

const STORAGE_KEY = 'keizoku.locale';

export type LocaleChoice = Locale | 'system';

function systemLocale(): Locale {
  const preferred = typeof navigator === 'undefined' ? [] : (navigator.languages ?? [navigator.language]);
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if ((LOCALES as readonly string[]).includes(base ?? '')) return base as Locale;
  }
  return 'en';
}

function storedChoice(): LocaleChoice {
  try {
    const value = globalThis.localStorage?.getItem(STORAGE_KEY);
    return value === 'en' || value === 'ja' ? value : 'system';
  } catch {
    return 'system';
  }
}

class LocaleState {
  choice = $state<LocaleChoice>(storedChoice());
  /** the browser's/OS's language, followed when it changes while the app is open */
  private system = $state<Locale>(systemLocale());
  readonly current = $derived<Locale>(this.choice === 'system' ? this.system : this.choice);

  constructor() {
    globalThis.addEventListener?.('languagechange', () => {
      this.system = systemLocale();
      this.syncDocument();
    });
    this.syncDocument();
  }

  choose(choice: LocaleChoice): void {
    this.choice = choice;
    try {
      if (choice === 'system') globalThis.localStorage?.removeItem(STORAGE_KEY);
      else globalThis.localStorage?.setItem(STORAGE_KEY, choice);
    } catch {
      // Storage may be unavailable (private mode); the choice still holds for this page.
    }
    this.syncDocument();
  }

  /** The page's lang attribute names the UI language (screen readers pick their voice by it). */
  private syncDocument(): void {
    if (typeof document !== 'undefined') document.documentElement.lang = this.current;
  }
}

export const locale = new LocaleState();

/** The message for `key` in the UI language, with {name} placeholders filled. */
export function t(key: MessageKey, params?: MessageParams): string {
  return message(locale.current, key, params);
}

/** `<base>.one` or `<base>.other` by the UI language's plural rules, with {count} set to `count`. */
export function tn(base: PluralBase, count: number, params?: MessageParams): string {
  return message(locale.current, pluralKey(locale.current, base, count), { count, ...params });
}

export function formatNumber(value: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(locale.current, options).format(value);
}

export function formatPercent(fraction: number, digits: number): string {
  return formatNumber(fraction, { style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatDateTime(iso: string): string {
  return new Intl.DateTimeFormat(locale.current, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}
