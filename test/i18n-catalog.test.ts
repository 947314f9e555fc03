// The UI speaks English and Japanese: both catalogs have every key, no empty message, the same
// placeholders in both languages, plural pairs complete, and no .svelte file shows English text
// that bypasses t().
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOGS, LOCALES } from '../renderer/src/lib/i18n/catalog.js';
import { LEARNER_DESCRIPTIONS } from '../main/engine/learners/descriptions.js';
import { FINETUNE_DEFAULT_BUFFER_MEGABYTES } from '../main/engine/learners/finetune/state.js';
import { learnerIds } from '../main/engine/learners/registry.js';
import type { MessageKey } from '../renderer/src/lib/i18n/catalog.js';
import { message, pluralKey } from '../renderer/src/lib/i18n/translate.js';

const RENDERER = path.resolve(import.meta.dirname, '../renderer/src');
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

describe('message catalogs', () => {
  const english = Object.keys(CATALOGS.en).sort();

  it('has the same keys in every language, none empty', () => {
    expect(english.length).toBeGreaterThan(200);
    for (const locale of LOCALES) {
      expect(Object.keys(CATALOGS[locale]).sort(), locale).toEqual(english);
      const empty = Object.entries(CATALOGS[locale]).filter(([, text]) => text.trim() === '');
      expect(empty, `empty ${locale} messages`).toEqual([]);
    }
  });

  it('uses the same placeholders in English and Japanese', () => {
    const differing = english.filter((key) => placeholders(CATALOGS.en[key as keyof typeof CATALOGS.en]).join() !== placeholders(CATALOGS.ja[key as keyof typeof CATALOGS.ja]).join());
    expect(differing).toEqual([]);
  });

  it('has both plural forms wherever one is defined', () => {
    const bases = new Set(english.filter((key) => /\.(one|other)$/.test(key)).map((key) => key.replace(/\.(one|other)$/, '')));
    for (const base of bases) expect([`${base}.one`, `${base}.other`].filter((key) => !english.includes(key)), base).toEqual([]);
  });

  it('actually translates: most Japanese messages differ from the English ones', () => {
    const same = english.filter((key) => CATALOGS.en[key as keyof typeof CATALOGS.en] === CATALOGS.ja[key as keyof typeof CATALOGS.ja]);
    // Only names that read the same in both languages (file names, "English", "日本語", "{path}: {reason}").
    expect(same.length).toBeLessThan(8);
    expect(same).toEqual(expect.arrayContaining(['settings.language.en', 'settings.language.ja']));
  });

  it("describes every learner in both languages, the English exactly the engine's", () => {
    for (const id of learnerIds) {
      for (const part of ['summary', 'cost'] as const) {
        const key = `learner.${id}.${part}` as MessageKey;
        expect(message('en', key, { bufferMegabytes: String(FINETUNE_DEFAULT_BUFFER_MEGABYTES) }), key).toBe(LEARNER_DESCRIPTIONS[id]![part]);
        expect(message('ja', key), key).not.toBe(message('en', key));
      }
    }
  });

  it('fills placeholders, formats numbers per locale and picks plural forms', () => {
    expect(message('en', 'card.samples.other', { count: 1234 })).toBe('1,234 samples');
    expect(message('en', pluralKey('en', 'card.samples', 1), { count: 1 })).toBe('1 sample');
    expect(message('en', pluralKey('en', 'card.samples', 0), { count: 0 })).toBe('0 samples');
    expect(pluralKey('ja', 'card.samples', 1)).toBe('card.samples.other');
    expect(message('ja', 'results.version', { id: '3' })).toBe('バージョン 3');
  });
});

// ---- the static check: markup text and labelling attributes go through t() ----

/** Words that are the same in every language: the product's name, file and format names, units. */
const ALLOWED_WORDS = new Set(['Keizoku', 'ONNX', 'Ctrl', 'Esc', 'Tab', 'Enter', 'Space']);
const LABEL_ATTRIBUTES = ['aria-label', 'title', 'placeholder', 'alt', 'label', 'hint', 'aria-description'];

function svelteFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return svelteFiles(full);
    return entry.name.endsWith('.svelte') ? [full] : [];
  });
}

/** Blanks out `{…}` expressions (nested braces, strings and template literals included). */
function withoutExpressions(markup: string): string {
  let out = '';
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < markup.length; i++) {
    const char = markup[i]!;
    if (depth === 0) {
      if (char === '{') depth = 1;
      else out += char;
      continue;
    }
    if (quote) {
      if (char === '\\') i++;
      else if (char === quote) quote = null;
      continue;
    }
    if (char === "'" || char === '"' || char === '`') quote = char;
    else if (char === '{') depth++;
    else if (char === '}') {
      depth--;
      if (depth === 0) out += ' ';
    }
  }
  return out;
}

/** English words in a piece of visible text, less the allowed ones. */
function englishWords(text: string): string[] {
  return (text.match(/[A-Za-z][A-Za-z'’-]+/g) ?? []).filter((word) => !ALLOWED_WORDS.has(word));
}

function untranslated(source: string): string[] {
  const markup = withoutExpressions(
    source
      .replace(/<script[\s\S]*?<\/script>/g, '')
      .replace(/<style[\s\S]*?<\/style>/g, '')
      .replace(/<!--[\s\S]*?-->/g, ''),
  );
  const problems: string[] = [];
  // Text between tags.
  for (const [, text] of markup.matchAll(/>([^<]*)</g)) {
    const words = englishWords(text ?? '');
    if (words.length) problems.push(`text "${text!.trim()}"`);
  }
  // Labelling attributes with a literal value (a `{…}` value was blanked out above).
  for (const attribute of LABEL_ATTRIBUTES) {
    for (const [, value] of markup.matchAll(new RegExp(`\\s${attribute}="([^"]*)"`, 'g'))) {
      if (englishWords(value ?? '').length) problems.push(`${attribute}="${value}"`);
    }
  }
  return problems;
}

/** Every .ts and .svelte file under renderer/src. */
function rendererSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'i18n' ? [] : rendererSources(full);
    return /\.(ts|svelte)$/.test(entry.name) ? [full] : [];
  });
}

describe('script code', () => {
  it('hands notices only translated text (no literal message to notify())', () => {
    const literal = rendererSources(RENDERER).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\bnotify\(\s*['"]\w+['"]\s*,\s*([`'"][^\n]*)/g)].map((match) => `${path.relative(RENDERER, file)}: ${match[1]}`),
    );
    expect(literal).toEqual([]);
  });
});

describe('svelte markup', () => {
  it('finds English outside t() (the check itself)', () => {
    expect(untranslated('<p>Hello there</p>')).toEqual(['text "Hello there"']);
    expect(untranslated('<button aria-label="Close">×</button>')).toEqual(['aria-label="Close"']);
    expect(untranslated('<p title={t(\'x\')}>{t(\'a.b\', { n: `v${1}` })} · v{id}</p><span>Keizoku</span>')).toEqual([]);
    expect(untranslated('<script>const a = "<b>Words</b>";</script><style>.a{}</style><i>{x}</i>')).toEqual([]);
  });

  it('has no English text node or label outside t() in any .svelte file', () => {
    const files = svelteFiles(RENDERER);
    expect(files.length).toBeGreaterThanOrEqual(12);
    const found = files.flatMap((file) => untranslated(readFileSync(file, 'utf8')).map((problem) => `${path.relative(RENDERER, file)}: ${problem}`));
    expect(found).toEqual([]);
  });
});
