// The retained MQTT message a device publishes on keizoku/<fleet>/<device>/stats:
//
//   "KZF1" | deflate( learner-state container: JSON header + float64 / sketch sections )
//
// Sections: analytic: packed upper triangle of G, cross, sketch; ncm: class sums, sketch.
// The sketch section is 8 bytes per training sample (sketchEntry), grouped by class in
// classNames order, counts[c] entries for class c. Every incoming message is validated
// (zod header, exact section sizes, finite values, size limits) before it is used: a hostile
// or corrupt payload is refused with a reason, never summed and never a crash.

import { deflateSync, inflateSync } from 'node:zlib';
import { z } from 'zod';
import { bytesToFloat64, decodeContainer, encodeContainer, float64ToBytes, StateFormatError } from '../learners/codec.js';
import { packUpper, unpackUpper } from '../learners/linalg/gram.js';
import { crossRows, FLEET_LEARNERS, type FleetStatistics } from './statistics.js';

const MAGIC = 'KZF1';
export const MESSAGE_FORMAT = 1;
/** Largest payload accepted, compressed and inflated: G at D = 4096 is 67 MB. */
export const MAX_COMPRESSED_BYTES = 128 * 1024 * 1024;
export const MAX_INFLATED_BYTES = 256 * 1024 * 1024;
const MAX_DIM = 8192;
const MAX_CLASSES = 100_000;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** Fleet and device names: one MQTT topic level each, no wildcards or separators. */
export const TopicNameSchema = z.string().regex(NAME, 'use 1–64 letters, digits, "_", "-" or "."');

const HeaderSchema = z.object({
  format: z.literal(MESSAGE_FORMAT),
  fleet: TopicNameSchema,
  device: TopicNameSchema,
  /** Grows by one each time this device publishes different statistics. */
  version: z.number().int().min(1),
  publishedAt: z.string().max(64),
  learner: z.enum(FLEET_LEARNERS),
  backbone: z.string().min(1).max(200),
  precision: z.string().min(1).max(32),
  featureLayout: z.string().min(1).max(64),
  dim: z.number().int().min(1).max(MAX_DIM),
  classNames: z.array(z.string().min(1).max(255)).max(MAX_CLASSES),
  counts: z.array(z.number().int().min(0)),
  /** 'none': a noisy message, whose exact sketch would give its samples away (privacy.ts). */
  sketch: z.enum(['sha256-64-exact', 'none']),
  /** Gaussian noise added before publishing (differential privacy); absent: none. */
  noise: z.object({ sigma: z.number().positive(), epsilon: z.number().positive(), delta: z.number().positive().lt(1) }).optional(),
  /** Aggregator messages only: the device messages the sum holds. */
  includes: z.array(z.object({ device: TopicNameSchema, version: z.number().int().min(1), statisticsSha256: z.string().max(64) })).max(1_000_000).optional(),
});
export type FleetMessageHeader = z.infer<typeof HeaderSchema>;

export interface FleetMessage {
  readonly header: FleetMessageHeader;
  readonly statistics: FleetStatistics;
}

export class FleetMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetMessageError';
  }
}

export type HeaderFields = Omit<FleetMessageHeader, 'format' | 'learner' | 'backbone' | 'precision' | 'featureLayout' | 'dim' | 'classNames' | 'counts' | 'sketch'>;

export function encodeFleetMessage(fields: HeaderFields, statistics: FleetStatistics): Uint8Array {
  const header: FleetMessageHeader = {
    format: MESSAGE_FORMAT,
    ...fields,
    learner: statistics.learner,
    backbone: statistics.backbone,
    precision: statistics.precision,
    featureLayout: statistics.featureLayout,
    dim: statistics.dim,
    classNames: [...statistics.classNames],
    counts: [...statistics.counts],
    sketch: fields.noise ? 'none' : 'sha256-64-exact',
  };
  const sections = [
    ...(statistics.gram ? [float64ToBytes(packUpper(statistics.gram, statistics.dim + 1))] : []),
    float64ToBytes(statistics.cross),
    fields.noise ? new Uint8Array(0) : encodeSketch(statistics.sketch),
  ];
  const body = deflateSync(encodeContainer(header, sections), { level: 1 });
  const out = new Uint8Array(4 + body.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  out.set(body, 4);
  return out;
}

export function decodeFleetMessage(payload: Uint8Array): FleetMessage {
  if (payload.length > MAX_COMPRESSED_BYTES) throw new FleetMessageError(`message of ${payload.length} bytes is over the ${MAX_COMPRESSED_BYTES}-byte limit`);
  if (payload.length < 4 || new TextDecoder().decode(payload.subarray(0, 4)) !== MAGIC) throw new FleetMessageError('not a Keizoku fleet message');
  let inflated: Buffer;
  try {
    inflated = inflateSync(payload.subarray(4), { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (error) {
    throw new FleetMessageError(`message does not decompress: ${(error as Error).message}`);
  }
  let container;
  try {
    container = decodeContainer(inflated);
  } catch (error) {
    throw new FleetMessageError(error instanceof StateFormatError ? error.message : 'message body is unreadable');
  }
  const parsed = HeaderSchema.safeParse(container.header);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FleetMessageError(`message header: ${issue ? `${issue.path.join('.') || 'header'}: ${issue.message}` : 'invalid'}`);
  }
  const header = parsed.data;
  const C = header.classNames.length;
  if (header.counts.length !== C) throw new FleetMessageError('message header: counts and classNames differ in length');
  if (new Set(header.classNames).size !== C) throw new FleetMessageError('message header: a class is listed twice');
  const analytic = header.learner === 'analytic';
  const sections = container.sections;
  if (sections.length !== (analytic ? 3 : 2)) throw new FleetMessageError(`message has ${sections.length} sections, expected ${analytic ? 3 : 2}`);
  const d1 = header.dim + 1;
  const rows = crossRows(header.learner, header.dim);
  let gram: Float64Array | null = null;
  let cross: Float64Array;
  try {
    gram = analytic ? unpackUpper(bytesToFloat64(sections[0]!, (d1 * (d1 + 1)) / 2), d1) : null;
    cross = bytesToFloat64(sections[analytic ? 1 : 0]!, rows * C);
  } catch (error) {
    throw new FleetMessageError(`message statistics: ${(error as Error).message}`);
  }
  if ((gram && !allFinite(gram)) || !allFinite(cross)) throw new FleetMessageError('message statistics hold a non-finite value');
  const sketch = header.sketch === 'none' ? header.classNames.map(() => []) : decodeSketch(sections[sections.length - 1]!, header.counts);
  if (header.sketch === 'none' && sections[sections.length - 1]!.length !== 0) throw new FleetMessageError('message says it has no sketch but carries one');
  return {
    header,
    statistics: {
      learner: header.learner, backbone: header.backbone, precision: header.precision, featureLayout: header.featureLayout,
      dim: header.dim, classNames: header.classNames, counts: header.counts, gram, cross, sketch,
      ...(header.noise ? { noiseSigma: header.noise.sigma } : {}),
    },
  };
}

function encodeSketch(sketch: readonly (readonly string[])[]): Uint8Array {
  const entries = sketch.flat();
  return Buffer.from(entries.join(''), 'hex');
}

function decodeSketch(bytes: Uint8Array, counts: readonly number[]): string[][] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (bytes.length !== total * 8) throw new FleetMessageError(`message sketch has ${bytes.length / 8} entries for ${total} samples`);
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  let offset = 0;
  return counts.map((n) => {
    const entries: string[] = [];
    for (let i = 0; i < n; i++, offset += 16) entries.push(hex.slice(offset, offset + 16));
    return entries;
  });
}

function allFinite(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return false;
  return true;
}
