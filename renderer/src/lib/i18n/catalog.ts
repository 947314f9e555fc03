// Every area's messages, one flat catalog per language. Add an area: import it here.
import type { Catalog } from './define.js';
import { camera } from './messages/camera.js';
import { common } from './messages/common.js';

const AREAS = [common, camera] as const;

type AreaKeys<A> = A extends { en: Readonly<Record<infer K, string>> } ? K : never;
export type MessageKey = AreaKeys<(typeof AREAS)[number]>;

export const LOCALES = ['en', 'ja'] as const;
export type Locale = (typeof LOCALES)[number];

function merge(locale: Locale): Catalog<MessageKey> {
  return Object.assign({}, ...AREAS.map((area) => area[locale])) as Catalog<MessageKey>;
}

export const CATALOGS: Readonly<Record<Locale, Catalog<MessageKey>>> = { en: merge('en'), ja: merge('ja') };
