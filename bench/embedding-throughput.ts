// Section `throughput`: how close the embedding pipeline (embedFiles: read + hash + decode
// overlapped with inference) comes to the backbone's own speed, on the same session.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { embedFiles, DEFAULT_BATCH_SIZE, type FeatureExtractor } from '../main/engine/embedding/index.js';
import { decodeToRgb, rgbToChw } from '../main/engine/images/index.js';
import { loadBackbone, warmUp } from './backbone.js';
import { CALTECH, listFiles, type PhotoFile } from './datasets.js';
import { fixed, ratio } from './markdown.js';
import type { BenchContext, SectionOutput } from './section.js';

const IMAGES = 512;
const ROUNDS = 5;
const BATCH_SIZES = [8, 16, 32] as const;

/** IMAGES Caltech train files spread evenly over the sorted list (so over all classes). */
export function sampleFiles(): PhotoFile[] {
  const all = listFiles(CALTECH.dir, 'train');
  const n = Math.min(IMAGES, all.length);
  return Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]!);
}

/** What embedFiles does per file before inference: read, sha256, decode + resize, CHW layout. */
export async function decodeInto(file: PhotoFile, extractor: FeatureExtractor, out: Float32Array, offset: number): Promise<void> {
  const bytes = await readFile(file.absPath);
  createHash('sha256').update(bytes).digest('hex');
  const decoded = await decodeToRgb(bytes, extractor.preprocessing);
  if (!decoded.ok) throw new Error(`${file.relPath}: ${decoded.reason}`);
  rgbToChw(decoded.rgb, extractor.preprocessing, out, offset);
}

export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Wall time and this process's CPU time (every thread: ONNX Runtime's pool, libuv's, main). */
export async function timed(fn: () => Promise<void>): Promise<{ ms: number; cpuMs: number }> {
  global.gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

type ModeId = `inference-${number}` | 'decode' | 'sequential' | `pipeline-${number}`;

export async function embeddingThroughput(context: BenchContext): Promise<SectionOutput> {
  const { extractor, session, backbone, threads } = await loadBackbone(context.cacheDir);
  try {
    const files = sampleFiles();
    const n = files.length;
    const perImage = 3 * extractor.preprocessing.height * extractor.preprocessing.width;
    context.log(`throughput: decoding ${n} Caltech images once (inputs for inference alone; also warms the page cache)`);
    const pixels = new Float32Array(n * perImage);
    await mapLimit(files, 2 * DEFAULT_BATCH_SIZE, (file, i) => decodeInto(file, extractor, pixels, i * perImage));
    const scratch = new Float32Array(n * perImage);
    context.log('throughput: warming up the session');
    await warmUp(extractor);

    const modes = {} as Record<ModeId, () => Promise<void>>;
    for (const bs of BATCH_SIZES) {
      modes[`inference-${bs}`] = async () => {
        for (let i = 0; i < n; i += bs) {
          const count = Math.min(bs, n - i);
          await extractor.run(pixels.subarray(i * perImage, (i + count) * perImage), count);
        }
      };
    }
    modes.decode = () => mapLimit(files, 2 * DEFAULT_BATCH_SIZE, (file, i) => decodeInto(file, extractor, scratch, i * perImage));
    modes.sequential = async () => {
      const bs = DEFAULT_BATCH_SIZE;
      for (let i = 0; i < n; i += bs) {
        const batch = files.slice(i, i + bs);
        await Promise.all(batch.map((file, k) => decodeInto(file, extractor, scratch, k * perImage)));
        await extractor.run(scratch.subarray(0, batch.length * perImage), batch.length);
      }
    };
    for (const bs of BATCH_SIZES) {
      modes[`pipeline-${bs}`] = async () => {
        const totals = await embedFiles(
          files.map(({ absPath, relPath }) => ({ absPath, relPath })),
          extractor,
          { lookupCached: () => undefined, onEmbedded: () => undefined, onFailed: (job, reason) => { throw new Error(`${job.relPath}: ${reason}`); } },
          { batchSize: bs },
        );
        if (totals.embedded !== n) throw new Error(`pipeline embedded ${totals.embedded} of ${n} images`);
      };
    }

    // Rounds interleave the modes so that drift (thermal, noisy neighbours) spreads over all of them.
    const runs = new Map<ModeId, Array<{ ms: number; cpuMs: number }>>();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [id, run] of Object.entries(modes) as Array<[ModeId, () => Promise<void>]>) {
        const measured = await timed(run);
        runs.set(id, [...(runs.get(id) ?? []), measured]);
        context.log(`throughput round ${round}/${ROUNDS}: ${id} ${(n / (measured.ms / 1000)).toFixed(1)} images/s`);
      }
    }
    const rates = (id: ModeId) => runs.get(id)!.map((r) => n / (r.ms / 1000));
    const rate = (id: ModeId) => median(rates(id));
    /** CPU milliseconds per image, all threads. */
    const cpuPerImage = (id: ModeId) => median(runs.get(id)!.map((r) => r.cpuMs / n));
    const coresBusy = (id: ModeId) => median(runs.get(id)!.map((r) => r.cpuMs / r.ms));
    const referenceId: ModeId = `inference-${DEFAULT_BATCH_SIZE}`;
    const reference = rate(referenceId);
    const pipeline = rate(`pipeline-${DEFAULT_BATCH_SIZE}`);
    const headline = pipeline / reference;

    const row = (label: string, id: ModeId, batch: string, sameBatchInference?: number) => [
      label,
      batch,
      fixed(rate(id)),
      `${fixed(Math.min(...rates(id)), 0)}–${fixed(Math.max(...rates(id)), 0)}`,
      fixed(1000 / rate(id), 2),
      fixed(cpuPerImage(id), 2),
      fixed(coresBusy(id), 2),
      ratio(rate(id), reference),
      sameBatchInference === undefined ? '–' : ratio(rate(id), sameBatchInference),
    ];
    const rows = [
      row(`**reference**: (a) inference alone (pre-decoded tensors)`, `inference-${DEFAULT_BATCH_SIZE}`, String(DEFAULT_BATCH_SIZE)),
      ...BATCH_SIZES.filter((bs) => bs !== DEFAULT_BATCH_SIZE).map((bs) => row('(a) inference alone', `inference-${bs}`, String(bs))),
      row('(b) decode alone (read + sha256 + decode + layout, 32 in flight)', 'decode', '–'),
      row('(c) sequential: decode a batch, then infer it (no overlap)', 'sequential', String(DEFAULT_BATCH_SIZE)),
      ...BATCH_SIZES.map((bs) =>
        row(`(d) pipeline \`embedFiles\`${bs === DEFAULT_BATCH_SIZE ? ' (default batch; headline)' : ''}`, `pipeline-${bs}`, String(bs), rate(`inference-${bs}`)),
      ),
    ];
    const cores = threads.intraOp;
    const decodeRate = rate('decode');
    // Both stages burn CPU on the same cores: however well they overlap, the pipeline can't go
    // faster than the cores can supply the CPU time of one inference plus one decode.
    const cpuBound = Math.min(reference, (1000 * cores) / (cpuPerImage(`inference-${DEFAULT_BATCH_SIZE}`) + cpuPerImage('decode')));
    const decodeShare = cpuPerImage('decode') / cpuPerImage(`inference-${DEFAULT_BATCH_SIZE}`);
    return {
      title: 'Embedding throughput',
      method:
        `${n} Caltech-101 train photos (≤256 px JPEG, spread over all classes), backbone \`${backbone.key}\` on CPU with ` +
        `${threads.intraOp} intra-op / ${threads.interOp} inter-op threads, one session for every mode, warmed up first; ` +
        `files are read once beforehand, so the page cache is warm. Each mode runs ${ROUNDS} times, interleaved with the others; ` +
        `the table gives the median and the range. CPU time counts every thread of the process (ONNX Runtime's and libuv's pools included). (a) runs pre-decoded CHW tensors through \`extractor.run\`; (b) does only what the pipeline does ` +
        `before inference; (c) alternates the two without overlap; (d) is the product pipeline \`embedFiles\` with no cache hits.`,
      tables: [
        {
          caption: `Images per second (median of ${ROUNDS} runs, range of the ${ROUNDS}); headline (d)/(a) at batch ${DEFAULT_BATCH_SIZE} = ${headline.toFixed(2)} (target ≥ 0.90)`,
          headers: ['mode', 'batch', 'images/s', 'range', 'ms/image', 'CPU ms/image', 'cores busy', '÷ reference', '÷ inference alone, same batch'],
          align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
          rows,
          reading: [
            `The pipeline reaches ${headline.toFixed(2)}× inference alone` +
              (headline >= 0.9 ? ', within the 10 % target.' : ', short of the 0.90 target.') +
              ` Inference alone keeps ${fixed(coresBusy(referenceId), 1)} of the ${cores} cores busy (ONNX Runtime's threads spin-wait between kernels, which counts as busy) and decoding costs ${(decodeShare * 100).toFixed(0)} % of its CPU time per image, ` +
              `so with both sharing the same cores no overlap can beat about ${fixed(cpuBound)} images/s (${ratio(cpuBound, reference)} the reference); ` +
              `the pipeline gets ${ratio(pipeline, cpuBound)} of that bound, against ${ratio(rate('sequential'), cpuBound)} for (c)` +
              (rate('sequential') > pipeline
                ? `: overlapping decode with inference costs more than it hides here, probably because more threads are runnable than there are cores while ONNX Runtime's pool spin-waits.`
                : '.'),
            coresBusy(referenceId) >= 0.9 * cores
              ? `Since inference alone already fills the cores, the 0.90 target needs decoding to cost under ~${((1 / 0.9 - 1) * 100).toFixed(0)} % of inference's CPU time per image; ` +
                `here it costs ${(decodeShare * 100).toFixed(0)} % (decode alone: ${fixed(decodeRate)} images/s).`
              : `Inference alone leaves ${fixed(cores - coresBusy(referenceId), 1)} core idle on average, where decoding can hide; the rest of it competes with inference ` +
                `(decode alone: ${fixed(decodeRate)} images/s).`,
          ],
        },
      ],
      data: {
        images: n,
        rounds: ROUNDS,
        threads,
        runs: Object.fromEntries(runs),
        imagesPerSecond: Object.fromEntries([...runs.keys()].map((id) => [id, rate(id)])),
        cpuMsPerImage: Object.fromEntries([...runs.keys()].map((id) => [id, cpuPerImage(id)])),
        headline,
        cpuBound,
      },
    };
  } finally {
    await session.release();
  }
}
