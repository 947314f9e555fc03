// Resolves a learner's hyper-parameters: context first, then what the previous version used,
// then the learner's defaults. Unknown keys and wrong types are caller errors (typos would
// otherwise be silently ignored and the version trained with a value nobody chose).

import { LearnerInputError, type HyperParameters } from './learner.js';

export function resolveHyperParameters<H extends HyperParameters>(
  learnerId: string,
  defaults: H,
  previous: Partial<H> | null,
  fromContext: HyperParameters | undefined,
): H {
  const resolved: Record<string, number | string | boolean> = { ...defaults, ...(previous ?? {}) };
  for (const [key, value] of Object.entries(fromContext ?? {})) {
    if (!(key in defaults)) throw new LearnerInputError(`learner "${learnerId}" has no hyper-parameter "${key}"`);
    if (typeof value !== typeof defaults[key]) {
      throw new LearnerInputError(`hyper-parameter "${key}" of "${learnerId}" must be a ${typeof defaults[key]}`);
    }
    resolved[key] = value;
  }
  return resolved as H;
}
