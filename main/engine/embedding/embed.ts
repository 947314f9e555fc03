import { createHash } from 'node:crypto';
import { readRegularFile } from '../files/read-regular-file.js';
import { decodeToRgb, fileTooLargeReason, rgbToChw } from '../images/preprocess.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from '../images/types.js';
import type { FeatureExtractor } from './extractor.js';

export interface EmbedJob {
  absPath: string;
  relPath: string;
}

export interface EmbedEvents {
  /** Called before decoding: return a cached embedding for this content hash to skip decode and inference. */
  lookupCached(contentHash: string): Float32Array | undefined;
  onEmbedded(job: EmbedJob, contentHash: string, embedding: Float32Array, fromCache: boolean): void;
  onFailed(job: EmbedJob, reason: string): void;
  onProgress?(done: number, total: number): void;
}

export interface EmbedOptions {
  /** Images per inference call. Default 16. */
  batchSize?: number;
  /** Files read, hashed and decoded ahead of inference (in flight at once). Default 2 × batchSize. */
  decodeConcurrency?: number;
  /** Checked between files and batches; rejects with `signal.reason` (an AbortError by default). */
  signal?: AbortSignal;
  limits?: DecodeLimits;
}

export interface EmbedTotals {
  /** Embeddings computed by inference in this call. */
  embedded: number;
  /** Embeddings taken from `lookupCached`, or shared with an earlier job of this call with the same content. */
  cached: number;
  failed: number;
  timings: {
    /** Wall time during which at least one file was being read, hashed or decoded (overlaps inference). */
    decodeMs: number;
    /** Summed time inside `extractor.run`. */
    inferenceMs: number;
    wallMs: number;
  };
}

export const DEFAULT_BATCH_SIZE = 16;
/**
 * Embeddings kept for later copies of the same content within one call (most recent first).
 * Older ones are dropped to bound memory on huge runs; a copy found after that is simply
 * decoded and embedded again (unless `lookupCached` knows it).
 */
const RECENT_EMBEDDINGS = 4096;
/** Read-ahead stops while this many file bytes are held by files not yet decoded (one file always passes). */
const MAX_BYTES_IN_FLIGHT = 512 * 1024 * 1024;

type Outcome =
  | { kind: 'failed'; reason: string; hash?: string }
  | { kind: 'cached'; hash: string; embedding: Float32Array }
  /** Same content as an earlier job of this call: not decoded. */
  | { kind: 'duplicate'; hash: string }
  | { kind: 'decoded'; hash: string; rgb: Buffer };

type Result = { kind: 'embedded'; hash: string; embedding: Float32Array; fromCache: boolean } | { kind: 'failed'; reason: string };

/** Reads a whole file once, refusing folders, special files (without blocking on them) and files over the size limit. */
function readJobFile(absPath: string, maxBytes: number) {
  return readRegularFile(absPath, maxBytes, (size) => fileTooLargeReason(size, maxBytes));
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Hashes, decodes and embeds files in batches, overlapping the decoding of upcoming files with
 * inference of the current batch.
 *
 * - Each file is read once; its sha256 (hex) is the content hash, and the same bytes are decoded.
 * - `lookupCached` is asked before decoding; a hit skips decode and inference. Files with the same
 *   content as an earlier job of this call are decoded and inferred once (reported `fromCache`).
 * - Per-file problems (unreadable, not an image, corrupt, too large...) go to `onFailed`; only
 *   inference errors and exceptions thrown by the callbacks reject.
 * - Deterministic: batches are formed in job order, and callbacks fire in exactly job order
 *   whatever the timing.
 * - `signal` is checked between files and before each batch: no new batch starts once aborted;
 *   the batch already in flight completes (its callbacks fire), files being decoded are waited
 *   for, then the call rejects with the signal's reason. No callback fires after that.
 * - onnxruntime-node runs inference synchronously on the main thread, so decoding overlaps it
 *   through work already queued to sharp (libuv threads): `decodeConcurrency` (default
 *   2 × batchSize) is how many files are read/decoded ahead.
 */
export async function embedFiles(
  jobs: EmbedJob[],
  extractor: FeatureExtractor,
  events: EmbedEvents,
  options: EmbedOptions = {},
): Promise<EmbedTotals> {
  const started = performance.now();
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal);
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_SIZE));
  const decodeConcurrency = Math.max(1, Math.floor(options.decodeConcurrency ?? 2 * batchSize));
  const limits = options.limits ?? DEFAULT_DECODE_LIMITS;
  const prep = extractor.preprocessing;
  const dim = extractor.featureDim;
  const perImage = 3 * prep.height * prep.width;
  const total = jobs.length;

  const totals: EmbedTotals = { embedded: 0, cached: 0, failed: 0, timings: { decodeMs: 0, inferenceMs: 0, wallMs: 0 } };

  // ---- Stage 1: read + hash + cache lookup + decode, up to `decodeConcurrency` jobs ahead.
  let stopped = false;
  let nextToStart = 0;
  let running = 0;
  let consumedUpTo = 0; // the batcher has taken outcomes [0, consumedUpTo)
  const window = decodeConcurrency + batchSize; // never decode further ahead than this
  const firstIndexByHash = new Map<string, number>();
  const outcomeWaiters = new Map<number, { promise: Promise<Outcome>; resolve: (o: Outcome) => void; reject: (e: unknown) => void }>();
  const outcomeOf = (i: number) => {
    let w = outcomeWaiters.get(i);
    if (!w) {
      let resolve!: (o: Outcome) => void, reject!: (e: unknown) => void;
      const promise = new Promise<Outcome>((res, rej) => { resolve = res; reject = rej; });
      promise.catch(() => undefined);
      w = { promise, resolve, reject };
      outcomeWaiters.set(i, w);
    }
    return w;
  };

  /** Whether the batcher will have a result to share for content first seen at index `first`. */
  const sharedResultWillExist = (hash: string, first: number): boolean => {
    if (first >= consumedUpTo) return true; // not reached yet: it will be pending or done soon
    const state = byHash.get(hash);
    return state !== undefined && (state.kind !== 'done' || recent.has(hash));
  };

  let busySince = 0;
  let bytesInFlight = 0;
  const inFlightJobs = new Set<Promise<void>>();
  const processJob = async (i: number, forceDecode = false): Promise<Outcome> => {
    try {
      const job = jobs[i]!;
      const read = await readJobFile(job.absPath, limits.maxFileBytes);
      if (!read.ok) return { kind: 'failed', reason: read.reason };
      const size = read.bytes.length;
      bytesInFlight += size;
      try {
        const hash = createHash('sha256').update(read.bytes).digest('hex');
        const cached = events.lookupCached(hash);
        if (cached !== undefined && cached.length === dim) return { kind: 'cached', hash, embedding: cached };
        const first = firstIndexByHash.get(hash);
        if (first === undefined || i < first) firstIndexByHash.set(hash, i);
        if (!forceDecode && first !== undefined && first < i && sharedResultWillExist(hash, first)) return { kind: 'duplicate', hash };
        const decoded = await decodeToRgb(read.bytes, prep, limits);
        if (!decoded.ok) return { kind: 'failed', reason: decoded.reason, hash };
        return { kind: 'decoded', hash, rgb: decoded.rgb };
      } finally {
        bytesInFlight -= size;
      }
    } catch (error) {
      stopped = true;
      throw error;
    }
  };

  const pump = () => {
    while (
      !stopped && running < decodeConcurrency && nextToStart < total && nextToStart < consumedUpTo + window &&
      (running === 0 || bytesInFlight < MAX_BYTES_IN_FLIGHT)
    ) {
      const i = nextToStart++;
      if (running++ === 0) busySince = performance.now();
      const w = outcomeOf(i);
      const p: Promise<void> = processJob(i).then(w.resolve, w.reject).finally(() => {
        if (--running === 0) totals.timings.decodeMs += performance.now() - busySince;
        inFlightJobs.delete(p);
        pump();
      });
      inFlightJobs.add(p);
    }
  };

  // ---- In-order emission of results.
  const results = new Map<number, Result>();
  let emitted = 0;
  const flushResults = () => {
    while (results.has(emitted)) {
      const r = results.get(emitted)!;
      results.delete(emitted);
      const job = jobs[emitted]!;
      emitted++;
      if (r.kind === 'embedded') {
        if (r.fromCache) totals.cached++;
        else totals.embedded++;
        events.onEmbedded(job, r.hash, r.embedding, r.fromCache);
      } else {
        totals.failed++;
        events.onFailed(job, r.reason);
      }
      events.onProgress?.(emitted, total);
    }
  };
  const setResult = (i: number, r: Result) => {
    results.set(i, r);
    flushResults();
  };

  // ---- Stage 2: batches in job order; one inference in flight while the next batch fills.
  type HashState = { kind: 'pending'; waiters: number[] } | { kind: 'done' } | { kind: 'failed'; reason: string };
  const byHash = new Map<string, HashState>();
  const recent = new Map<string, Float32Array>(); // insertion-ordered: oldest first
  const remember = (hash: string, embedding: Float32Array) => {
    recent.delete(hash);
    recent.set(hash, embedding);
    if (recent.size > RECENT_EMBEDDINGS) recent.delete(recent.keys().next().value!);
  };
  const buffers: Float32Array[] = [];
  let current = 0;
  let batch: Array<{ index: number; hash: string }> = [];
  let inflight: Promise<void> | undefined;

  const runBatch = async (items: Array<{ index: number; hash: string }>, pixels: Float32Array) => {
    const t0 = performance.now();
    const out = await extractor.run(pixels.subarray(0, items.length * perImage), items.length);
    totals.timings.inferenceMs += performance.now() - t0;
    if (out.length < items.length * dim) throw new Error(`feature extractor returned ${out.length} values for ${items.length} images of ${dim}`);
    items.forEach(({ index, hash }, k) => {
      const embedding = out.slice(k * dim, (k + 1) * dim);
      const state = byHash.get(hash);
      byHash.set(hash, { kind: 'done' });
      remember(hash, embedding);
      results.set(index, { kind: 'embedded', hash, embedding, fromCache: false });
      if (state?.kind === 'pending') {
        for (const w of state.waiters) results.set(w, { kind: 'embedded', hash, embedding: embedding.slice(), fromCache: true });
      }
    });
    flushResults();
  };

  const launch = async () => {
    if (batch.length === 0) return;
    if (inflight) await inflight;
    if (signal?.aborted) throw abortError(signal);
    const items = batch;
    batch = [];
    const pixels = buffers[current]!;
    current ^= 1;
    inflight = runBatch(items, pixels);
    inflight.catch(() => undefined);
  };

  /** Shares the result of earlier content; false when that result is no longer kept. */
  const addDuplicate = (i: number, hash: string): boolean => {
    const state = byHash.get(hash);
    if (state?.kind === 'pending') state.waiters.push(i);
    else if (state?.kind === 'failed') setResult(i, { kind: 'failed', reason: state.reason });
    else {
      const embedding = state?.kind === 'done' ? recent.get(hash) : undefined;
      if (!embedding) return false;
      setResult(i, { kind: 'embedded', hash, embedding: embedding.slice(), fromCache: true });
    }
    return true;
  };

  try {
    pump();
    for (let i = 0; i < total; i++) {
      if (signal?.aborted) throw abortError(signal);
      let o = await outcomeOf(i).promise;
      outcomeWaiters.delete(i);
      consumedUpTo = i + 1;
      pump();
      // A later copy of content first seen at a lower index (decoded or not) shares that result.
      if (o.kind === 'duplicate' || ((o.kind === 'decoded' || o.kind === 'failed') && o.hash !== undefined && (firstIndexByHash.get(o.hash) ?? i) < i)) {
        if (addDuplicate(i, o.hash!)) continue;
        // The earlier result is no longer kept (far back in a huge run): embed this copy itself.
        if (o.kind === 'duplicate') o = await processJob(i, true);
        if (o.kind !== 'failed' && o.kind !== 'cached') firstIndexByHash.set(o.hash, i);
      }
      switch (o.kind) {
        case 'failed':
          if (o.hash !== undefined) byHash.set(o.hash, { kind: 'failed', reason: o.reason });
          setResult(i, { kind: 'failed', reason: o.reason });
          break;
        case 'cached':
          setResult(i, { kind: 'embedded', hash: o.hash, embedding: o.embedding, fromCache: true });
          break;
        case 'duplicate':
          throw new Error('internal: unresolved duplicate');
        case 'decoded': {
          buffers[current] ??= new Float32Array(batchSize * perImage);
          rgbToChw(o.rgb, prep, buffers[current]!, batch.length * perImage);
          batch.push({ index: i, hash: o.hash });
          byHash.set(o.hash, { kind: 'pending', waiters: [] });
          if (batch.length === batchSize) await launch();
          break;
        }
      }
    }
    await launch();
    if (inflight) await inflight;
    flushResults();
    if (emitted !== total) throw new Error(`internal: ${total - emitted} jobs without a result`);
  } catch (error) {
    // Leave nothing running behind: the batch in flight and the files being decoded finish first.
    stopped = true;
    if (inflight) await inflight.catch(() => undefined);
    await Promise.allSettled([...inFlightJobs]);
    throw error;
  } finally {
    stopped = true;
    totals.timings.wallMs = performance.now() - started;
  }
  return totals;
}
