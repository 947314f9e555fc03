import { chmod, copyFile, mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxFeatureExtractor, embedFiles, type EmbedEvents, type EmbedJob, type FeatureExtractor } from '../main/engine/embedding/index.js';
import { preprocessImage, type Preprocessing } from '../main/engine/images/index.js';
import {
  cmykJpeg, decodeRaw, encodeBmp, exifRotatedJpeg, grayscaleJpeg, makeTempDir, palettePng, png16, pngBomb, rgbaPng, RUNNING_AS_ROOT,
  SVG_TEXT, truncated, writeFileIn,
} from './support/fixtures.js';
import { CALTECH_DIR, CIFAR_DIR, CORAL_DIR, REFERENCE_ONNX } from './support/paths.js';

const PREP: Preprocessing = { width: 224, height: 224, mean: [128, 128, 128], std: [128, 128, 128] };
const DIM = 1280;

let session: ort.InferenceSession;
let extractor: FeatureExtractor;
let dir: string;
let cleanup: () => Promise<void>;
const expectedFailures = new Map<string, string | RegExp>();
const expectedGood: string[] = [];
let jobs: EmbedJob[];

/** A real extractor that counts images sent to inference. */
function counting(inner: FeatureExtractor): FeatureExtractor & { images: number; calls: number[] } {
  const c = {
    featureDim: inner.featureDim,
    preprocessing: inner.preprocessing,
    images: 0,
    calls: [] as number[],
    async run(pixels: Float32Array, count: number) {
      c.images += count;
      c.calls.push(count);
      return inner.run(pixels, count);
    },
  };
  return c;
}

interface Recorded {
  order: string[];
  embedded: Map<string, { hash: string; embedding: Float32Array; fromCache: boolean }>;
  failed: Map<string, string>;
  progress: Array<[number, number]>;
  cache: Map<string, Float32Array>;
}
function recorder(cache = new Map<string, Float32Array>()): { events: EmbedEvents; rec: Recorded } {
  const rec: Recorded = { order: [], embedded: new Map(), failed: new Map(), progress: [], cache };
  return {
    rec,
    events: {
      lookupCached: (hash) => cache.get(hash),
      onEmbedded: (job, hash, embedding, fromCache) => {
        rec.order.push(job.relPath);
        rec.embedded.set(job.relPath, { hash, embedding, fromCache });
        if (!fromCache) cache.set(hash, embedding);
      },
      onFailed: (job, reason) => {
        rec.order.push(job.relPath);
        rec.failed.set(job.relPath, reason);
      },
      onProgress: (done, total) => rec.progress.push([done, total]),
    },
  };
}

beforeAll(async () => {
  session = await ort.InferenceSession.create(REFERENCE_ONNX, {
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  extractor = createOnnxFeatureExtractor(session, { inputName: 'input', featuresName: 'features' }, DIM, PREP);
  ({ dir, cleanup } = await makeTempDir('keizoku-embed-'));

  // Real photos from a few Caltech classes and one CIFAR image (32×32: upscaled).
  const photos: string[] = [];
  for (const cls of ['Faces', 'airplanes', 'anchor', 'bonsai', 'ant']) {
    const first = (await readdir(path.join(CALTECH_DIR, 'train', cls))).sort().slice(0, 2);
    for (const f of first) photos.push(path.join(CALTECH_DIR, 'train', cls, f));
  }
  for (const [i, p] of photos.entries()) {
    const rel = `photos/${i}-${path.basename(p)}`;
    await copyFile(p, path.join(await mkdir(path.join(dir, 'photos'), { recursive: true }).then(() => dir), rel));
    expectedGood.push(rel);
  }
  const cifarCat = (await readdir(path.join(CIFAR_DIR, 'train', 'cat'))).sort()[0]!;
  await writeFileIn(dir, 'photos/cifar-cat.jpg', await readFile(path.join(CIFAR_DIR, 'train', 'cat', cifarCat)));
  expectedGood.push('photos/cifar-cat.jpg');

  const src = await readFile(photos[0]!);
  const odd: Array<[string, Uint8Array]> = [
    ['odd/cmyk.jpg', await cmykJpeg(src)],
    ['odd/16bit.png', await png16(src)],
    ['odd/gray.jpg', await grayscaleJpeg(src)],
    ['odd/rgba.png', await rgbaPng(src)],
    ['odd/palette.png', await palettePng(src)],
    ['odd/rotated.jpg', await exifRotatedJpeg(src)],
    ['odd/photo.bmp', encodeBmp(await decodeRaw(src), { bpp: 24 })],
    ['odd/png-named.jpg', await sharp(src).png().toBuffer()],
    ['odd/duplicate-of-first.jpg', src],
  ];
  for (const [rel, bytes] of odd) {
    await writeFileIn(dir, rel, bytes);
    expectedGood.push(rel);
  }

  const bad: Array<[string, Uint8Array | string, string | RegExp]> = [
    ['bad/zero.jpg', new Uint8Array(0), 'empty file (0 bytes)'],
    ['bad/truncated.jpg', truncated(src, 0.4), /^truncated or corrupt JPEG$/],
    ['bad/text.jpg', 'Just some notes, not a photo.\n', 'not an image (unrecognized format)'],
    ['bad/bomb.png', pngBomb(50_000, 50_000), 'image too large: 50000×50000 px exceeds the 100 MP limit'],
    ['bad/vector.svg', SVG_TEXT, 'unsupported format: svg'],
  ];
  for (const [rel, bytes, reason] of bad) {
    await writeFileIn(dir, rel, bytes);
    expectedFailures.set(rel, reason);
  }
  await mkdir(path.join(dir, 'bad', 'folder.jpg'));
  expectedFailures.set('bad/folder.jpg', 'is a folder, not a file');
  expectedFailures.set('bad/vanished.jpg', 'file disappeared before it could be read');
  await writeFileIn(dir, 'bad/locked.jpg', src);
  await chmod(path.join(dir, 'bad', 'locked.jpg'), 0o000);
  // As root, permission bits don't stop reads: the file is then simply a good photo (same content as photo 0).
  if (RUNNING_AS_ROOT) expectedGood.push('bad/locked.jpg');
  else expectedFailures.set('bad/locked.jpg', 'cannot read file: permission denied');

  const rels = [...expectedGood, ...expectedFailures.keys()];
  // Interleave good and bad so failures and cache hits sit between batched items.
  rels.sort((a, b) => (a.split('/').pop()! < b.split('/').pop()! ? -1 : 1));
  jobs = rels.map((relPath) => ({ relPath, absPath: path.join(dir, ...relPath.split('/')) }));
});

afterAll(async () => {
  await chmod(path.join(dir, 'bad', 'locked.jpg'), 0o644).catch(() => undefined);
  await cleanup?.();
  await session?.release();
});

describe('embedFiles', () => {
  it('embeds every good file, gives every bad one a reason, in job order', async () => {
    const ex = counting(extractor);
    const { events, rec } = recorder();
    const totals = await embedFiles(jobs, ex, events, { batchSize: 4, decodeConcurrency: 6 });

    expect(rec.order).toEqual(jobs.map((j) => j.relPath));
    for (const [rel, reason] of expectedFailures) {
      const got = rec.failed.get(rel);
      if (typeof reason === 'string') expect({ rel, got }).toEqual({ rel, got: reason });
      else expect(got, rel).toMatch(reason);
    }
    expect([...rec.embedded.keys()].sort()).toEqual([...expectedGood].sort());
    for (const [rel, e] of rec.embedded) {
      expect(e.embedding.length, rel).toBe(DIM);
      expect(e.embedding.every(Number.isFinite), rel).toBe(true);
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    }

    // Same content → one inference; the later job (in job order) is reported from cache.
    const firstPhoto = expectedGood[0]!;
    const copies = [firstPhoto, 'odd/duplicate-of-first.jpg', ...(RUNNING_AS_ROOT ? ['bad/locked.jpg'] : [])];
    const copyJobs = jobs.filter((j) => copies.includes(j.relPath));
    expect(copyJobs.map((j) => rec.embedded.get(j.relPath)!.fromCache)).toEqual(copyJobs.map((_, k) => k > 0));
    for (const rel of copies) expect(rec.embedded.get(rel)!.embedding).toEqual(rec.embedded.get(firstPhoto)!.embedding);

    const unique = new Set([...rec.embedded.values()].map((e) => e.hash)).size;
    expect(ex.images).toBe(unique);
    expect(ex.calls.every((n) => n <= 4)).toBe(true);
    expect(totals).toMatchObject({ embedded: unique, cached: rec.embedded.size - unique, failed: expectedFailures.size });
    expect(totals.timings.inferenceMs).toBeGreaterThan(0);
    expect(totals.timings.wallMs).toBeGreaterThanOrEqual(totals.timings.inferenceMs);

    expect(rec.progress.length).toBe(jobs.length);
    expect(rec.progress.at(-1)).toEqual([jobs.length, jobs.length]);
    expect(rec.progress.map(([d]) => d)).toEqual(jobs.map((_, i) => i + 1));

    // A second pass finds everything in the cache: no decode, no inference.
    const again = counting(extractor);
    const second = recorder(rec.cache);
    const t2 = await embedFiles(jobs, again, second.events);
    expect(again.images).toBe(0);
    expect(t2).toMatchObject({ embedded: 0, cached: expectedGood.length, failed: expectedFailures.size });
    for (const rel of expectedGood) expect(second.rec.embedded.get(rel)!.embedding).toEqual(rec.embedded.get(rel)!.embedding);
  });

  it('embeddings equal single-image inference; odd formats land near the original photo', async () => {
    const { events, rec } = recorder();
    await embedFiles(jobs, extractor, events, { batchSize: 5 });
    const single = async (rel: string) => {
      const r = await preprocessImage(await readFile(path.join(dir, rel)), PREP);
      if (!r.ok) throw new Error(r.reason);
      return extractor.run(r.pixels, 1);
    };
    for (const rel of [expectedGood[0]!, expectedGood[3]!, 'photos/cifar-cat.jpg', 'odd/photo.bmp']) {
      const a = rec.embedded.get(rel)!.embedding;
      const b = await single(rel);
      let worst = 0;
      for (let i = 0; i < DIM; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      expect(worst, rel).toBeLessThan(1e-3);
    }
    const cos = (a: Float32Array, b: Float32Array) => {
      let d = 0, na = 0, nb = 0;
      for (let i = 0; i < a.length; i++) { d += a[i]! * b[i]!; na += a[i]! * a[i]!; nb += b[i]! * b[i]!; }
      return d / Math.sqrt(na * nb);
    };
    const original = rec.embedded.get(expectedGood[0]!)!.embedding;
    // Lossless or near-lossless re-encodings of the same photo: nearly the same features.
    for (const rel of ['odd/photo.bmp', 'odd/png-named.jpg', 'odd/16bit.png']) expect(cos(original, rec.embedded.get(rel)!.embedding), rel).toBeGreaterThan(0.98);
    for (const rel of ['odd/cmyk.jpg', 'odd/palette.png', 'odd/gray.jpg']) expect(cos(original, rec.embedded.get(rel)!.embedding), rel).toBeGreaterThan(0.8);
    // Rotation changes what the network sees.
    expect(cos(original, rec.embedded.get('odd/rotated.jpg')!.embedding)).toBeLessThan(0.98);
  });

  it('is deterministic whatever the decode concurrency', async () => {
    const a = recorder();
    const b = recorder();
    await embedFiles(jobs, extractor, a.events, { batchSize: 3, decodeConcurrency: 1 });
    await embedFiles(jobs, extractor, b.events, { batchSize: 3, decodeConcurrency: 16 });
    expect(b.rec.order).toEqual(a.rec.order);
    expect(b.rec.failed).toEqual(a.rec.failed);
    for (const [rel, e] of a.rec.embedded) {
      const other = b.rec.embedded.get(rel)!;
      expect([other.hash, other.fromCache]).toEqual([e.hash, e.fromCache]);
      expect(other.embedding).toEqual(e.embedding);
    }
  });

  it('stops between batches when aborted, and reports nothing after', async () => {
    const controller = new AbortController();
    const { events, rec } = recorder();
    const ex = counting(extractor);
    let calledAfter = false;
    let settled = false;
    const wrapped: EmbedEvents = {
      lookupCached: events.lookupCached,
      onEmbedded: (...a) => {
        if (settled) calledAfter = true;
        events.onEmbedded(...a);
        controller.abort();
      },
      onFailed: (...a) => {
        if (settled) calledAfter = true;
        events.onFailed(...a);
      },
    };
    const run = embedFiles(jobs, ex, wrapped, { batchSize: 2, signal: controller.signal });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    settled = true;
    await new Promise((r) => setTimeout(r, 200));
    expect(calledAfter).toBe(false);
    expect(ex.calls.length).toBe(1);
    expect(rec.order.length).toBeLessThan(jobs.length);
    // Already aborted: rejects at once.
    await expect(embedFiles(jobs, extractor, events, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('handles an empty job list', async () => {
    const { events } = recorder();
    expect(await embedFiles([], extractor, events)).toMatchObject({ embedded: 0, cached: 0, failed: 0 });
  });

  it('classifies the Coral test images correctly end to end (preprocessing matches the model)', async () => {
    const labels = (await readFile(path.join(CORAL_DIR, 'imagenet_labels.txt'), 'utf8')).split('\n');
    const expected: Record<string, string> = { 'bird.bmp': 'chickadee', 'cat.bmp': 'Egyptian cat', 'grace_hopper.bmp': 'military uniform', 'dragonfly.bmp': 'dragonfly' };
    for (const [file, label] of Object.entries(expected)) {
      const r = await preprocessImage(await readFile(path.join(CORAL_DIR, 'img', file)), PREP);
      if (!r.ok) throw new Error(r.reason);
      const out = await session.run({ input: new ort.Tensor('float32', r.pixels, [1, 3, 224, 224]) }, ['output']);
      const probs = out['output']!.data as Float32Array;
      let best = 0;
      for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
      expect(labels[best]!.split(',')[0], file).toBe(label);
    }
  });

  it('rejects when inference fails, without leaving work behind', async () => {
    const broken: FeatureExtractor = {
      featureDim: DIM,
      preprocessing: PREP,
      run: async () => {
        throw new Error('device lost');
      },
    };
    const { events } = recorder();
    await expect(embedFiles(jobs, broken, events, { batchSize: 2 })).rejects.toThrow('device lost');
  });
});
