// Collects the reliability drills' records (drill-log.ts) during the run and prints them as
// one table when the run ends, so CI's log shows what was tried and what broke.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import type { DrillRecord } from './drill-log.js';

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keizoku-drills-'));
  const log = path.join(dir, 'drills.jsonl');
  project.provide('reliabilityLog', log);
  return () => {
    let records: DrillRecord[] = [];
    try {
      records = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as DrillRecord);
    } catch {
      // no drill ran (a filtered run)
    }
    rmSync(dir, { recursive: true, force: true });
    if (records.length === 0) return;
    const rows = records.map((record) => [record.drill, String(record.tries), String(record.failures), record.detail ?? '']);
    const header = ['drill', 'tries', 'failures', 'detail'];
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
    const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
    const total = records.reduce((sum, record) => ({ tries: sum.tries + record.tries, failures: sum.failures + record.failures }), { tries: 0, failures: 0 });
    process.stdout.write(
      [
        '',
        'Reliability drills',
        line(header),
        line(widths.map((width) => '-'.repeat(width))),
        ...rows.map(line),
        `${total.tries} tries, ${total.failures} failures`,
        '',
      ].join('\n'),
    );
  };
}
