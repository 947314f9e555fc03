// A message area's English and Japanese catalogs. The type makes a key missing in
// Japanese a compile error; test/i18n-catalog.test.ts also checks placeholders.
export type Catalog<Keys extends string> = Readonly<Record<Keys, string>>;

export interface AreaMessages<Keys extends string> {
  readonly en: Catalog<Keys>;
  readonly ja: Catalog<Keys>;
}

export function defineMessages<const English extends Record<string, string>>(
  en: English,
  ja: Catalog<Extract<keyof English, string>>,
): AreaMessages<Extract<keyof English, string>> {
  return { en, ja };
}
