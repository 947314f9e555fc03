// Every area's messages, one flat catalog per language. Add an area: import it here.
import type { Catalog } from './define.js';
import { camera } from './messages/camera.js';
import { classes } from './messages/classes.js';
import { common } from './messages/common.js';
import { fleet } from './messages/fleet.js';
import { learners } from './messages/learners.js';
import { notices } from './messages/notices.js';
import { results } from './messages/results.js';
import { review } from './messages/review.js';
import { settings } from './messages/settings.js';
import { shell } from './messages/shell.js';
import { tryIt } from './messages/try.js';
import { versions } from './messages/versions.js';

const AREAS = [common, shell, notices, classes, results, tryIt, versions, settings, learners, camera, review, fleet] as const;

type AreaKeys<A> = A extends { en: Readonly<Record<infer K, string>> } ? K : never;
export type MessageKey = AreaKeys<(typeof AREAS)[number]>;

export const LOCALES = ['en', 'ja'] as const;
export type Locale = (typeof LOCALES)[number];

function merge(locale: Locale): Catalog<MessageKey> {
  return Object.assign({}, ...AREAS.map((area) => area[locale])) as Catalog<MessageKey>;
}

export const CATALOGS: Readonly<Record<Locale, Catalog<MessageKey>>> = { en: merge('en'), ja: merge('ja') };
