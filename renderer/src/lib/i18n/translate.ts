// Filling a message's {name} placeholders, apart from the reactive locale so that DOM-free
// modules (and their tests) can format messages in a language they are given.
import { CATALOGS, type Locale, type MessageKey } from './catalog.js';

export type MessageParams = Readonly<Record<string, string | number>>;
export type Translate = (key: MessageKey, params?: MessageParams) => string;

type PluralBaseOf<K> = K extends `${infer Base}.other` ? (`${Base}.one` extends MessageKey ? Base : never) : never;
/** Keys whose plural forms are `<base>.one` / `<base>.other` (Japanese uses the same text for both). */
export type PluralBase = PluralBaseOf<MessageKey>;

export function fill(template: string, params: MessageParams | undefined, formatNumber: (value: number) => string): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === 'number' ? formatNumber(value) : value;
  });
}

export function message(locale: Locale, key: MessageKey, params?: MessageParams): string {
  const template = CATALOGS[locale][key] || CATALOGS.en[key] || key;
  return fill(template, params, (value) => new Intl.NumberFormat(locale).format(value));
}

/** The plural key for `count` in `locale`: English one/other; Japanese always other. */
export function pluralKey(locale: Locale, base: PluralBase, count: number): MessageKey {
  return `${base}.${new Intl.PluralRules(locale).select(count) === 'one' ? 'one' : 'other'}` as MessageKey;
}

/** A fixed-language translator, for DOM-free code and tests. */
export function translator(locale: Locale): Translate {
  return (key, params) => message(locale, key, params);
}
