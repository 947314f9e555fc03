// Runs a version's top layers in ONNX Runtime to turn cut activations into features. Opening a
// session costs ~0.15 s, so the last few tops used stay open (keyed by a fingerprint of their
// weights, since states are decoded afresh from storage); an evicted session is released once no
// run is using it.
import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { openSession } from '../../runtime/devices.js';
import { buildFeaturesGraph, FINETUNE_GRAPH_NAMES as N } from './graphs.js';
import type { TopNetwork } from './top-network.js';

/** Opens a session for a graph on the update's device; the default is CPU. */
export type SessionOpener = (model: Uint8Array) => Promise<ort.InferenceSession>;

const cpuOpener: SessionOpener = async (model) => (await openSession(model, 'cpu')).session;

interface OpenTop {
  readonly session: Promise<ort.InferenceSession>;
  runs: number;
  evicted: boolean;
}

const KEEP_OPEN = 2;
const open = new Map<string, OpenTop>();
const fingerprints = new WeakMap<TopNetwork, string>();
/** Rows per run: bounds the session's working memory (~40 MB of intermediate maps at 64). */
const ROWS_PER_RUN = 64;

export function topFingerprint(top: TopNetwork): string {
  let known = fingerprints.get(top);
  if (!known) {
    const hash = createHash('sha256');
    for (const p of top.parameters) hash.update(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength));
    known = hash.digest('hex');
    fingerprints.set(top, known);
  }
  return known;
}

/** count × featureDim features of `count` flattened activations. */
export async function topFeatures(top: TopNetwork, activations: Float32Array, count: number, opener: SessionOpener = cpuOpener): Promise<Float32Array> {
  const [c, h, w] = top.cutShape;
  const dim = c * h * w;
  const out = new Float32Array(count * top.featureDim);
  if (count === 0) return out;
  const entry = acquire(top, opener);
  try {
    const session = await entry.session;
    for (let start = 0; start < count; start += ROWS_PER_RUN) {
      const rows = Math.min(ROWS_PER_RUN, count - start);
      const input = new ort.Tensor('float32', activations.subarray(start * dim, (start + rows) * dim), [rows, dim]);
      const result = await session.run({ [N.activations]: input });
      out.set(result[N.features]!.data as Float32Array, start * top.featureDim);
    }
  } finally {
    release(entry);
  }
  return out;
}

function acquire(top: TopNetwork, opener: SessionOpener): OpenTop {
  const key = topFingerprint(top);
  let entry = open.get(key);
  if (entry) {
    open.delete(key); // re-insert: most recently used last
  } else {
    entry = { session: opener(buildFeaturesGraph(top)), runs: 0, evicted: false };
    entry.session.catch(() => open.delete(key));
  }
  open.set(key, entry);
  entry.runs++;
  while (open.size > KEEP_OPEN) {
    const [oldestKey, oldest] = open.entries().next().value as [string, OpenTop];
    open.delete(oldestKey);
    oldest.evicted = true;
    if (oldest.runs === 0) void closeSession(oldest);
  }
  return entry;
}

function release(entry: OpenTop): void {
  entry.runs--;
  if (entry.evicted && entry.runs === 0) void closeSession(entry);
}

async function closeSession(entry: OpenTop): Promise<void> {
  try {
    await (await entry.session).release();
  } catch {
    // a session that failed to open has nothing to release
  }
}
