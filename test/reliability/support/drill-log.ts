// Every reliability drill records how many times it tried and how many tries broke an
// invariant; the suite's global teardown prints them as one table at the end of `npm test`.
import { appendFileSync } from 'node:fs';
import { inject } from 'vitest';

export interface DrillRecord {
  drill: string;
  tries: number;
  failures: number;
  /** what was tried, briefly (e.g. the phases the kills landed in) */
  detail?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    reliabilityLog: string;
  }
}

export function recordDrill(record: DrillRecord): void {
  appendFileSync(inject('reliabilityLog'), `${JSON.stringify(record)}\n`);
}

/** Runs each try, counts those that throw, records the drill, then fails the test with the first few failures. */
export async function drill<T>(name: string, tries: readonly T[], attempt: (item: T, index: number) => Promise<void> | void, detail?: () => string): Promise<void> {
  const failures: string[] = [];
  for (const [index, item] of tries.entries()) {
    try {
      await attempt(item, index);
    } catch (error) {
      failures.push(`try ${index + 1} (${describe(item)}): ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  recordDrill({ drill: name, tries: tries.length, failures: failures.length, ...(detail ? { detail: detail() } : {}) });
  if (failures.length > 0) throw new Error(`${failures.length} of ${tries.length} tries failed:\n${failures.slice(0, 5).join('\n')}`);
}

function describe(item: unknown): string {
  return typeof item === 'string' ? item : JSON.stringify(item);
}
