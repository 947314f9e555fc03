// Section `scale`: how a real `runUpdate` grows with the project's size (1k–30k samples, 100 and
// 1,000 classes), from cached embeddings, so what is measured is the learner, the store and the
// evaluation rather than the backbone.
//
// There are not 30k real photos nor 1,000 real classes in the shared data, so each project is
// synthetic: its files are copies of real Caltech-101 train photos with a few unique bytes
// appended after the JPEG's end (so every file has its own content hash), and each file's
// embedding — the real embedding of its source photo plus a seeded class offset and per-sample
// noise in feature space — is put into the project's embedding cache (keyed by the sha256 of the
// file's bytes, as embedFiles computes it, under the backbone key of project.backbone()) before
// the update runs. The update then reads and hashes every file and finds each vector in the
// cache: no photo is decoded and no inference runs.
//
// Each project is built by one child process (`--scale-project build`) and measured by a fresh one
// (`--scale-project measure`), so neither the building nor another project's heap and allocator
// state inflate its peak RSS.
import { seededRandom } from '../main/engine/learners/seeded-random.js';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UpdateResult } from '../main/engine/api/contract.js';
import { Project } from '../main/engine/project/project.js';
import { DATABASE_FILE } from '../main/engine/store/index.js';
import { runUpdate } from '../main/engine/use-cases/update.js';
import { loadBackbone } from './backbone.js';
import { CALTECH, listFiles } from './datasets.js';
import { embedSplitCached } from './embedding-cache.js';
import { fixed, mib, ratio } from './markdown.js';
import { measurePeakMemory } from './memory-sampler.js';
import { MODEL_MIRROR_DIR } from './paths.js';
import type { BenchContext, SectionOutput } from './section.js';

type LearnerId = 'analytic' | 'replay';

interface Combo {
  samples: number;
  classes: number;
  learner: LearnerId;
}

const COMBOS: Combo[] = [
  { samples: 1_000, classes: 100, learner: 'analytic' },
  { samples: 1_000, classes: 1_000, learner: 'analytic' },
  { samples: 3_000, classes: 100, learner: 'analytic' },
  { samples: 3_000, classes: 1_000, learner: 'analytic' },
  { samples: 10_000, classes: 100, learner: 'analytic' },
  { samples: 10_000, classes: 1_000, learner: 'analytic' },
  { samples: 30_000, classes: 100, learner: 'analytic' },
  { samples: 30_000, classes: 1_000, learner: 'analytic' },
  { samples: 10_000, classes: 100, learner: 'replay' },
];

/** New samples of the incremental update, as a fraction of the project. */
const ADDED_FRACTION = 0.01;
/** Feature-space noise, in units of the real embeddings' per-dimension standard deviation. */
const SAMPLE_NOISE = 0.25;
const CLASS_OFFSET = 0.5;

interface UpdateFigures {
  status: string;
  timingsMs: UpdateResult['timingsMs'];
  samples: UpdateResult['samples'];
  classes: number;
  peakRss: number;
  peakHeapUsed: number;
  rssBefore: number;
  overall: number | null;
}

interface ProjectFigures extends Combo {
  first: UpdateFigures;
  incremental: UpdateFigures;
  added: number;
  dbBytes: number;
  embeddingBytes: number;
  dim: number;
  rssIdle: number;
  buildMs: number;
}

// ---------------------------------------------------------------------------------------------
// Deterministic noise: the project's seeded generator (mulberry32) per (class, sample), normals by Box–Muller.

function addNormal(out: Float32Array, seed: number, scale: Float32Array, factor: number): void {
  const next = seededRandom(seed);
  for (let i = 0; i < out.length; i += 2) {
    const u = Math.max(next(), 1e-12);
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i]! += factor * scale[i]! * r * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1]! += factor * scale[i + 1]! * r * Math.sin(2 * Math.PI * v);
  }
}

// ---------------------------------------------------------------------------------------------
// Sources: the real photos and their embeddings, written once by the section for its children.

interface Sources {
  dim: number;
  files: Array<{ absPath: string; className: string }>;
  classNames: string[];
  vectors: Float32Array;
  /** Per-dimension standard deviation of the real embeddings. */
  std: Float32Array;
}

function writeSources(dir: string, sources: Sources): void {
  writeFileSync(path.join(dir, 'sources.json'), JSON.stringify({ dim: sources.dim, files: sources.files, classNames: sources.classNames }));
  writeFileSync(path.join(dir, 'sources.f32'), Buffer.from(sources.vectors.buffer, sources.vectors.byteOffset, sources.vectors.byteLength));
  writeFileSync(path.join(dir, 'sources-std.f32'), Buffer.from(sources.std.buffer, sources.std.byteOffset, sources.std.byteLength));
}

function readSources(dir: string): Sources {
  const meta = JSON.parse(readFileSync(path.join(dir, 'sources.json'), 'utf8')) as Omit<Sources, 'vectors' | 'std'>;
  const floats = (file: string) => {
    const bytes = readFileSync(path.join(dir, file));
    const out = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  };
  return { ...meta, vectors: floats('sources.f32'), std: floats('sources-std.f32') };
}

// ---------------------------------------------------------------------------------------------
// Child: build one project, pre-fill its cache, measure the first and an incremental update.

interface SyntheticSample {
  classIndex: number;
  index: number;
}

/** Class c's sample j: its source is photo (j + round·7) of real class c mod R, where round = floor(c / R). */
function sourceOf(sources: Sources, byClass: number[][], sample: SyntheticSample): number {
  const r = sample.classIndex % byClass.length;
  const round = Math.floor(sample.classIndex / byClass.length);
  const photos = byClass[r]!;
  return photos[(sample.index + round * 7) % photos.length]!;
}

function className(sources: Sources, classIndex: number, classes: number): string {
  const real = sources.classNames[classIndex % sources.classNames.length]!;
  return `${String(classIndex).padStart(String(classes - 1).length, '0')}-${real}`;
}

/** Writes the samples' files and returns their cache entries. */
function materialize(
  root: string,
  sources: Sources,
  byClass: number[][],
  classes: number,
  samples: readonly SyntheticSample[],
): Array<{ contentHash: string; vector: Float32Array }> {
  const entries: Array<{ contentHash: string; vector: Float32Array }> = [];
  const made = new Set<string>();
  for (const sample of samples) {
    const source = sourceOf(sources, byClass, sample);
    const dir = path.join(root, className(sources, sample.classIndex, classes));
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    const bytes = Buffer.concat([readFileSync(sources.files[source]!.absPath), Buffer.from(`\0keizoku-scale ${sample.classIndex} ${sample.index}\n`)]);
    writeFileSync(path.join(dir, `s${String(sample.index).padStart(5, '0')}.jpg`), bytes);
    const vector = sources.vectors.slice(source * sources.dim, (source + 1) * sources.dim);
    // The class offset is shared by the class's samples (classes beyond the real ones differ by it); the rest is per sample.
    addNormal(vector, 0x5ca1e000 ^ Math.imul(sample.classIndex + 1, 0x9e3779b1), sources.std, CLASS_OFFSET);
    addNormal(vector, Math.imul(sample.classIndex + 1, 0x85ebca6b) ^ Math.imul(sample.index + 1, 0xc2b2ae35), sources.std, SAMPLE_NOISE);
    entries.push({ contentHash: createHash('sha256').update(bytes).digest('hex'), vector });
  }
  return entries;
}

function dbBytes(stateDir: string): number {
  return ['', '-wal', '-shm'].reduce((sum, suffix) => {
    const file = path.join(stateDir, DATABASE_FILE + suffix);
    return sum + (existsSync(file) ? statSync(file).size : 0);
  }, 0);
}

interface ProjectArgs {
  sourcesDir: string;
  root: string;
  cacheDir: string;
  combo: Combo;
  out: string;
}

const stagingOf = (root: string) => `${root}-staging`;

function openProject(root: string, cacheDir: string, learner: LearnerId): Project {
  return Project.open({ root, modelDir: MODEL_MIRROR_DIR, cacheDir, allowDownload: false, device: 'cpu', learner });
}

/**
 * Process 1: writes the project's files (the +1 % ones into a staging folder beside it) and puts
 * every file's vector into the project's embedding cache. Returns the number of staged files.
 */
async function buildProject(options: ProjectArgs): Promise<{ added: number; dim: number; buildMs: number }> {
  const { combo, root, cacheDir } = options;
  const buildStarted = performance.now();
  const sources = readSources(options.sourcesDir);
  const byClass: number[][] = sources.classNames.map(() => []);
  sources.files.forEach((file, i) => byClass[sources.classNames.indexOf(file.className)]!.push(i));
  const perClass = (c: number) => Math.floor(combo.samples / combo.classes) + (c < combo.samples % combo.classes ? 1 : 0);
  const initial: SyntheticSample[] = [];
  for (let c = 0; c < combo.classes; c++) for (let j = 0; j < perClass(c); j++) initial.push({ classIndex: c, index: j });
  const addedCount = Math.ceil(combo.samples * ADDED_FRACTION);
  // The new samples go round-robin over the classes (stride 7919), after each class's last index.
  const added: SyntheticSample[] = [];
  const nextIndex = Array.from({ length: combo.classes }, (_, c) => perClass(c));
  for (let k = 0; k < addedCount; k++) {
    const c = (k * 7919) % combo.classes;
    added.push({ classIndex: c, index: nextIndex[c]!++ });
  }
  mkdirSync(root, { recursive: true });
  const entries = [
    ...materialize(root, sources, byClass, combo.classes, initial),
    ...materialize(stagingOf(root), sources, byClass, combo.classes, added),
  ];
  const project = openProject(root, cacheDir, combo.learner);
  try {
    const key = (await project.backbone()).key;
    for (let i = 0; i < entries.length; i += 1024) project.store.embeddings.putMany(key, entries.slice(i, i + 1024));
  } finally {
    project.close();
  }
  return { added: addedCount, dim: sources.dim, buildMs: performance.now() - buildStarted };
}

/** Process 2 (fresh): the first update, then the staged files moved in (rename) and an incremental update. */
async function measureProject(options: ProjectArgs & { added: number; dim: number; buildMs: number }): Promise<ProjectFigures> {
  const { combo, root, cacheDir } = options;
  global.gc?.();
  const rssIdle = process.memoryUsage().rss;
  const update = async (): Promise<UpdateFigures> => {
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const { result, memory } = await measurePeakMemory(async () => {
      const project = openProject(root, cacheDir, combo.learner);
      try {
        return await runUpdate(project);
      } finally {
        project.close();
      }
    });
    if (result.samples.embedded > 0) throw new Error(`scale: ${result.samples.embedded} files were embedded, not found in the cache`);
    return {
      status: result.status,
      timingsMs: result.timingsMs,
      samples: result.samples,
      classes: result.classes.total,
      peakRss: memory.peakRss,
      peakHeapUsed: memory.peakHeapUsed,
      rssBefore,
      overall: result.metrics.overall ?? null,
    };
  };
  const first = await update();
  const staging = stagingOf(root);
  for (const name of readdirSync(staging)) {
    for (const file of readdirSync(path.join(staging, name))) renameSync(path.join(staging, name, file), path.join(root, name, file));
  }
  const incremental = await update();
  return {
    ...combo,
    first,
    incremental,
    added: options.added,
    dbBytes: dbBytes(path.join(root, '.keizoku')),
    embeddingBytes: (combo.samples + options.added) * options.dim * 4,
    dim: options.dim,
    rssIdle,
    buildMs: options.buildMs,
  };
}

// ---------------------------------------------------------------------------------------------
// Section: embed the real photos once, then one child process per project.

function spawnChild(mode: 'build' | 'measure', args: object, out: string, label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const nodeArgs = process.env.KEIZOKU_BENCH_SCALE_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, ['--expose-gc', ...nodeArgs, fileURLToPath(import.meta.url), '--scale-project', mode, JSON.stringify(args)], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0 || !existsSync(out)) reject(new Error(`scale: ${mode} of the project ${label} failed (exit code ${code})`));
      else resolve();
    });
  });
}

async function runProject(args: ProjectArgs): Promise<ProjectFigures> {
  const label = `${args.combo.samples}/${args.combo.classes}/${args.combo.learner}`;
  const built = `${args.out}.build`;
  await spawnChild('build', { ...args, out: built }, built, label);
  const build = JSON.parse(readFileSync(built, 'utf8')) as { added: number; dim: number; buildMs: number };
  await spawnChild('measure', { ...args, ...build }, args.out, label);
  return JSON.parse(readFileSync(args.out, 'utf8')) as ProjectFigures;
}

export async function scaleBench(context: BenchContext): Promise<SectionOutput> {
  const area = mkdtempSync(path.join(os.tmpdir(), 'keizoku-bench-scale-'));
  try {
    const photos = listFiles(CALTECH.dir, 'train');
    context.log(`scale: embedding ${photos.length} real Caltech-101 train photos (the sources)`);
    const loaded = await loadBackbone(context.cacheDir);
    const split = await embedSplitCached(photos, loaded.extractor, loaded.backbone.key);
    await loaded.session.release();
    // embedSplit leaves failed files out; the rows must line up with the file list.
    if (split.count !== photos.length) throw new Error(`scale: ${photos.length - split.count} source photos failed to embed`);
    const kept = photos;
    const dim = split.dim;
    const mean = new Float64Array(dim);
    const sq = new Float64Array(dim);
    for (let i = 0; i < split.count; i++) {
      for (let d = 0; d < dim; d++) {
        const x = split.features[i * dim + d]!;
        mean[d]! += x;
        sq[d]! += x * x;
      }
    }
    const std = new Float32Array(dim);
    for (let d = 0; d < dim; d++) {
      const m = mean[d]! / split.count;
      std[d] = Math.sqrt(Math.max(0, sq[d]! / split.count - m * m));
    }
    const sourcesDir = path.join(area, 'sources');
    mkdirSync(sourcesDir);
    writeSources(sourcesDir, {
      dim,
      files: kept.map((photo) => ({ absPath: photo.absPath, className: photo.className })),
      classNames: [...new Set(kept.map((photo) => photo.className))],
      vectors: split.features,
      std,
    });

    const measured: ProjectFigures[] = [];
    // KEIZOKU_BENCH_SCALE_SAMPLES=1000,3000: only those sizes; KEIZOKU_BENCH_SCALE_NODE_ARGS: extra node flags
    // for the project processes, e.g. --cpu-prof (for tuning runs).
    const only = process.env.KEIZOKU_BENCH_SCALE_SAMPLES?.split(',').map(Number);
    const combos = only ? COMBOS.filter((combo) => only.includes(combo.samples)) : COMBOS;
    for (const [i, combo] of combos.entries()) {
      const label = `${combo.samples} samples / ${combo.classes} classes, ${combo.learner}`;
      context.log(`scale: ${label}`);
      const root = path.join(area, `project-${i}`);
      const figures = await runProject({ sourcesDir, root, cacheDir: context.cacheDir, combo, out: path.join(area, `result-${i}.json`) });
      rmSync(root, { recursive: true, force: true });
      rmSync(stagingOf(root), { recursive: true, force: true });
      measured.push(figures);
      const f = figures.first;
      context.log(
        `  first ${(f.timingsMs.total / 1000).toFixed(2)} s (scan ${(f.timingsMs.scan / 1000).toFixed(2)}, hash ${(f.timingsMs.embed / 1000).toFixed(2)}, ` +
          `train ${(f.timingsMs.train / 1000).toFixed(2)}, evaluate ${(f.timingsMs.evaluate / 1000).toFixed(2)}, commit ${(f.timingsMs.commit / 1000).toFixed(2)}), ` +
          `+${figures.added} ${(figures.incremental.timingsMs.total / 1000).toFixed(2)} s, peak RSS ${mib(Math.max(f.peakRss, figures.incremental.peakRss))} MiB, ` +
          `db ${mib(figures.dbBytes)} MiB`,
      );
    }
    return report(measured, photos.length);
  } finally {
    rmSync(area, { recursive: true, force: true });
  }
}

function report(measured: readonly ProjectFigures[], photoCount: number): SectionOutput {
  const ref = measured[0]!;
  const s = (ms: number) => fixed(ms / 1000, 2);
  const perK = (value: number, samples: number) => (value / samples) * 1000;
  const peak = (p: ProjectFigures) => Math.max(p.first.peakRss, p.incremental.peakRss);
  const label = (p: ProjectFigures, i: number) =>
    `${i === 0 ? '**reference**: ' : ''}${p.samples.toLocaleString('en-US')} / ${p.classes.toLocaleString('en-US')}${p.learner === 'analytic' ? '' : ` (${p.learner})`}`;
  const timeRows = measured.map((p, i) => {
    const t = p.first.timingsMs;
    return [
      label(p, i),
      s(t.total),
      ratio(t.total, ref.first.timingsMs.total),
      fixed(perK(t.total, p.samples), 0),
      ratio(t.total / p.samples, ref.first.timingsMs.total / ref.samples),
      s(t.scan + t.embed),
      s(t.train),
      s(t.evaluate),
      s(t.commit),
      s(p.incremental.timingsMs.total),
      ratio(p.incremental.timingsMs.total, ref.incremental.timingsMs.total),
      s(p.incremental.timingsMs.train),
    ];
  });
  const memoryRows = measured.map((p, i) => [
    label(p, i),
    mib(p.rssIdle),
    mib(peak(p)),
    ratio(peak(p), peak(ref)),
    mib(peak(p) - p.rssIdle),
    fixed((peak(p) - p.rssIdle) / p.samples / 1024, 1),
    mib(p.embeddingBytes),
    mib(p.dbBytes),
    ratio(p.dbBytes, ref.dbBytes),
    fixed(p.dbBytes / (p.samples + p.added) / 1024, 1),
  ]);
  const analytic = measured.filter((p) => p.learner === 'analytic');
  const largest = analytic.reduce((a, b) => (b.samples > a.samples || (b.samples === a.samples && b.classes > a.classes) ? b : a));
  const ten = analytic.filter((p) => p.samples === 10_000);
  const tenPeak = ten.length > 0 ? Math.max(...ten.map(peak)) : null;
  const growth = (classes: number) => {
    const rows = analytic.filter((p) => p.classes === classes);
    const small = rows[0];
    const big = rows[rows.length - 1];
    return small && big && big !== small
      ? `${classes} classes: ${(big.samples / small.samples).toFixed(0)}× the samples cost ${ratio(big.first.timingsMs.total, small.first.timingsMs.total)} the first-update time`
      : null;
  };
  // Memory beyond the embeddings, per class count (the class count brings its own C×D statistics and scores).
  const memoryGrowth = (classes: number) => {
    const rows = analytic.filter((p) => p.classes === classes);
    const small = rows[0];
    const big = rows[rows.length - 1];
    if (!small || !big || big === small) return null;
    const grew = peak(big) - big.rssIdle - (peak(small) - small.rssIdle);
    const stored = big.embeddingBytes - small.embeddingBytes;
    return `${classes} classes, ${small.samples.toLocaleString('en-US')} → ${big.samples.toLocaleString('en-US')} samples: peak − idle grows by ${mib(grew)} MiB for ${mib(stored)} MiB more stored embeddings (${ratio(grew, stored)})`;
  };
  return {
    title: 'Scale: update time and memory against project size',
    method:
      `**The samples are synthetic.** Each project is a real folder of class subfolders in a temp dir, but there are only ${photoCount} real ` +
      `Caltech-101 train photos (100 classes), so the files are copies of those photos with a few unique bytes appended after the JPEG's end ` +
      `(every file has its own content hash; a decoder would ignore the bytes, but none is run), and synthetic class k copies real class k mod 100. ` +
      `Each file's embedding is the real embedding of its source photo (embedded once with the product pipeline) plus seeded Gaussian noise in ` +
      `feature space: a per-class offset of ${CLASS_OFFSET} and a per-sample term of ${SAMPLE_NOISE} per-dimension standard deviations of the real ` +
      `embeddings. Before the update runs, these vectors are put into the project's own SQLite embedding cache (\`EmbeddingStore.putMany\`, keyed by ` +
      `the sha256 of the file's bytes as \`embedFiles\` computes it, under \`project.backbone()\`'s key), so \`runUpdate\` reads and hashes every file, ` +
      `finds every vector in the cache, and decodes and infers nothing (the section fails if anything is embedded): the figures are the scan, hash, ` +
      `learner, evaluation and store costs, not the backbone's. Samples are spread evenly over the classes (1,000 samples / 1,000 classes is one ` +
      `sample per class: each stays in train and nothing of those classes is held out). Per project: the first update (no version yet; ` +
      `learns every sample) and an incremental update after adding ${ADDED_FRACTION * 100} % new samples (round-robin over the classes, also pre-cached). ` +
      `One Node process writes a project's files (the +${ADDED_FRACTION * 100} % into a staging folder) and fills its cache; a fresh one then runs the ` +
      `first update, moves the staged files in (rename) and runs the incremental one (learner analytic unless marked, device cpu, default threads), ` +
      `so no project's figures carry another's heap. Peak RSS is sampled every 50 ms from a worker thread over both updates; "idle RSS" is the measuring ` +
      `process's RSS before the first update (the loaded modules; no backbone session is opened, since nothing is inferred). ` +
      `Database size: keizoku.db with its -wal and -shm after both updates, embedding cache included. The machine has 2 cores shared with other work, ` +
      `so absolute times are noisy; compare the ratios.`,
    tables: [
      {
        caption: 'Update time (seconds); ratios against the 1,000-sample / 100-class project',
        headers: [
          'samples / classes',
          'first update s',
          '÷ ref',
          'ms per 1k samples',
          'per sample ÷ ref',
          'scan + hash',
          'train',
          'evaluate',
          'commit',
          `+${ADDED_FRACTION * 100} % update s`,
          '÷ ref',
          'its train',
        ],
        align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
        rows: timeRows,
        reading: [
          [growth(100), growth(1_000)].filter(Boolean).join('; ') + (growth(100) || growth(1_000) ? '.' : ''),
          `At ${largest.samples.toLocaleString('en-US')} samples / ${largest.classes.toLocaleString('en-US')} classes a sample costs ` +
            `${ratio(largest.first.timingsMs.total / largest.samples, ref.first.timingsMs.total / ref.samples)} what it costs in the reference project ` +
            `(below 1× means better than linear growth).`,
        ],
      },
      {
        caption: 'Memory and database (MiB); ratios against the 1,000-sample / 100-class project',
        headers: ['samples / classes', 'idle RSS', 'peak RSS', '÷ ref', 'peak − idle', 'KiB per sample', 'embeddings (N × dim × 4)', 'database', '÷ ref', 'KiB per sample'],
        align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
        rows: memoryRows,
        reading: [
          tenPeak === null ? '' : `Peak RSS at 10,000 samples: ${mib(tenPeak)} MiB (target: under 600 MB).`,
          [memoryGrowth(100), memoryGrowth(1_000)].filter(Boolean).join('; ') + ': below 1× means the memory beyond the stored embeddings stays flat. ' +
          `From the reference to the largest project, peak RSS grows by ${mib(peak(largest) - peak(ref))} MiB while the stored embeddings grow by ` +
            `${mib(largest.embeddingBytes - ref.embeddingBytes)} MiB (${ratio(peak(largest) - peak(ref), largest.embeddingBytes - ref.embeddingBytes)}). ` +
            `The largest project peaks at ${mib(peak(largest))} MiB, ${mib(peak(largest) - largest.rssIdle)} MiB above idle for ` +
            `${mib(largest.embeddingBytes)} MiB of stored embeddings; the database holds ${fixed(largest.dbBytes / (largest.samples + largest.added) / 1024, 1)} KiB ` +
            `per sample (a ${ref.dim}-d float32 vector is ${fixed((ref.dim * 4) / 1024, 1)} KiB).`,
        ].filter(Boolean),
      },
    ],
    data: { photoCount, projects: measured },
  };
}

// Child entry point: `--scale-project build|measure <json>`.
if (process.argv[2] === '--scale-project' && process.argv[1] === fileURLToPath(import.meta.url)) {
  const mode = process.argv[3];
  const args = JSON.parse(process.argv[4]!) as ProjectArgs & { added: number; dim: number; buildMs: number };
  (mode === 'build' ? buildProject(args) : measureProject(args)).then(
    (figures) => writeFileSync(args.out, JSON.stringify(figures)),
    (error: unknown) => {
      process.stderr.write(`scale child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
