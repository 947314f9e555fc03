// Entry of `npm run bench [-- accuracy|domains|finetune|throughput|int8|update|training|scale|peers|live|fleet ...]`.
//
// The parent process resolves the backbone once into a shared cache folder, then runs each
// section in its own Node process (`--section <id>`), so a section's memory and GC state never
// leak into another's figures. A section process writes bench-results/<id>.json; the parent
// prints its tables to stdout and rewrites docs/benchmarks.md, keeping the previous block of
// any section not run this time. Progress goes to stderr.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveDefaultBackbone } from './backbone.js';
import { domainShiftBench } from './domains.js';
import { finetuneBench } from './finetune.js';
import { fleetBench } from './fleet.js';
import { embeddingThroughput } from './embedding-throughput.js';
import { incrementalAccuracy } from './incremental-accuracy.js';
import { peersBench } from './peers.js';
import { int8Bench } from './int8.js';
import { liveBench } from './live.js';
import { provenance, startForeignCpuMeter } from './machine.js';
import { benchmarksDocument, sectionText } from './markdown.js';
import { DOC_PATH, RESULTS_DIR, SHARED_DIR } from './paths.js';
import { isSectionId, SECTION_IDS, type BenchContext, type Section, type SectionId, type SectionRecord } from './section.js';
import { scaleBench } from './scale.js';
import { trainingBench } from './training.js';
import { updateLatency } from './update-latency.js';

const SECTIONS: Record<SectionId, Section> = {
  accuracy: incrementalAccuracy,
  domains: domainShiftBench,
  finetune: finetuneBench,
  throughput: embeddingThroughput,
  int8: int8Bench,
  update: updateLatency,
  training: trainingBench,
  peers: peersBench,
  scale: scaleBench,
  live: liveBench,
  fleet: fleetBench,
};

const CACHE_ENV = 'KEIZOKU_BENCH_CACHE_DIR';
const started = performance.now();

function log(message: string): void {
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}

function resultPath(id: SectionId): string {
  return path.join(RESULTS_DIR, `${id}.json`);
}

/** Child mode: run one section and write its record. */
async function runSectionProcess(id: SectionId): Promise<void> {
  const cacheDir = process.env[CACHE_ENV];
  if (!cacheDir) throw new Error(`${CACHE_ENV} is not set (run the benchmark through bench/run.js without --section)`);
  const context: BenchContext = { cacheDir, log: (message) => log(`${id}: ${message}`) };
  const meta = await provenance();
  if (meta.busyAtStart > 0.1) {
    context.log(`warning: the CPU was ${(meta.busyAtStart * 100).toFixed(0)} % busy before starting; other work on this machine will skew the timings`);
  }
  const t0 = performance.now();
  const foreignCpu = startForeignCpuMeter();
  const output = await SECTIONS[id](context);
  const record: SectionRecord = { id, ...meta, ...output, durationMs: performance.now() - t0, foreignCpu: foreignCpu() };
  if (record.foreignCpu > 0.05) {
    context.log(`warning: other processes took ${(record.foreignCpu * 100).toFixed(0)} % of the CPU during this section; its timings are skewed`);
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(resultPath(id), JSON.stringify(record, null, 2));
}

function spawnSection(id: SectionId, cacheDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--section', id], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, [CACHE_ENV]: cacheDir },
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function parseSections(args: readonly string[]): SectionId[] {
  if (args.length === 0 || args.includes('all')) return [...SECTION_IDS];
  const unknown = args.filter((arg) => !isSectionId(arg));
  if (unknown.length > 0) {
    throw new Error(`unknown section ${unknown.join(', ')}: use ${SECTION_IDS.join(', ')} or all (default)`);
  }
  return SECTION_IDS.filter((id) => args.includes(id));
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args[0] === '--section') {
    const id = args[1] ?? '';
    if (!isSectionId(id)) throw new Error(`unknown section ${id}`);
    await runSectionProcess(id);
    return 0;
  }
  const sections = parseSections(args);
  if (!existsSync(SHARED_DIR)) throw new Error(`shared data not found at ${SHARED_DIR} (set KEIZOKU_SHARED_DIR)`);
  const ownCache = !process.env.KEIZOKU_CACHE_DIR;
  const cacheDir = process.env.KEIZOKU_CACHE_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'keizoku-bench-cache-'));
  const fresh: SectionRecord[] = [];
  let failed = 0;
  try {
    log(`resolving the default backbone into ${cacheDir}`);
    await resolveDefaultBackbone(cacheDir);
    for (const id of sections) {
      log(`section ${id}: starting`);
      rmSync(resultPath(id), { force: true });
      const code = await spawnSection(id, cacheDir);
      if (code !== 0 || !existsSync(resultPath(id))) {
        log(`section ${id}: FAILED (exit code ${code})`);
        failed++;
        continue;
      }
      const record = JSON.parse(readFileSync(resultPath(id), 'utf8')) as SectionRecord;
      fresh.push(record);
      log(`section ${id}: done in ${(record.durationMs / 1000).toFixed(0)} s`);
      process.stdout.write(`${sectionText(record)}\n\n`);
    }
  } finally {
    if (ownCache) rmSync(cacheDir, { recursive: true, force: true });
  }
  if (fresh.length > 0) {
    const previous = existsSync(DOC_PATH) ? readFileSync(DOC_PATH, 'utf8') : '';
    mkdirSync(path.dirname(DOC_PATH), { recursive: true });
    writeFileSync(DOC_PATH, benchmarksDocument(fresh, previous, performance.now() - started));
    log(`wrote ${path.relative(process.cwd(), DOC_PATH) || DOC_PATH}`);
  }
  log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
