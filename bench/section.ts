// What every benchmark section is given and what it hands back.
import type { Provenance } from './machine.js';

export const SECTION_IDS = ['accuracy', 'domains', 'finetune', 'throughput', 'int8', 'update', 'training', 'scale', 'peers', 'live', 'fleet'] as const;
export type SectionId = (typeof SECTION_IDS)[number];

export function isSectionId(value: string): value is SectionId {
  return (SECTION_IDS as readonly string[]).includes(value);
}

/** One results table: cells are preformatted strings; the reference row is marked in its label. */
export interface Table {
  caption: string;
  headers: string[];
  /** 'l' or 'r' per column. */
  align: Array<'l' | 'r'>;
  rows: string[][];
  /** 1–3 sentences of reading, printed under the table. */
  reading: string[];
}

export interface SectionOutput {
  title: string;
  /** What is measured and how, one short paragraph. */
  method: string;
  tables: Table[];
  /** Raw figures, kept in bench-results/<id>.json only. */
  data: unknown;
}

export interface SectionRecord extends SectionOutput, Provenance {
  id: SectionId;
  durationMs: number;
  /** Share of the machine's CPU time taken by other processes while the section ran (0–1). */
  foreignCpu: number;
}

export interface BenchContext {
  /** Backbone cache (imported ONNX files) shared by every section of a run. */
  cacheDir: string;
  log: (message: string) => void;
}

export type Section = (context: BenchContext) => Promise<SectionOutput>;
