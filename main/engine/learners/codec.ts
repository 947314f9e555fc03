// Byte layout for learner states: a small JSON header plus binary sections, so a state stored
// as a SQLite BLOB decodes exactly (float64 bit patterns preserved) on any machine.
//
//   "KZL1" | u32 header length | u32 section count | u32 length × count | header (UTF-8 JSON)
//   | sections back to back.  All integers and floats little-endian.

const MAGIC = 'KZL1';
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class StateFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateFormatError';
  }
}

export interface Container {
  readonly header: unknown;
  readonly sections: readonly Uint8Array[];
}

export function encodeContainer(header: unknown, sections: readonly Uint8Array[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const prefix = 12 + 4 * sections.length;
  const total = prefix + json.length + sections.reduce((sum, s) => sum + s.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(4, json.length, true);
  view.setUint32(8, sections.length, true);
  sections.forEach((s, i) => view.setUint32(12 + 4 * i, s.length, true));
  out.set(json, prefix);
  let offset = prefix + json.length;
  for (const s of sections) {
    out.set(s, offset);
    offset += s.length;
  }
  return out;
}

export function decodeContainer(bytes: Uint8Array): Container {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) {
    throw new StateFormatError('not a Keizoku learner state');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(4, true);
  const count = view.getUint32(8, true);
  const prefix = 12 + 4 * count;
  if (bytes.length < prefix + headerLength) throw new StateFormatError('truncated learner state');
  const lengths = Array.from({ length: count }, (_, i) => view.getUint32(12 + 4 * i, true));
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(prefix, prefix + headerLength)));
  } catch {
    throw new StateFormatError('learner state header is not valid JSON');
  }
  const sections: Uint8Array[] = [];
  let offset = prefix + headerLength;
  for (const length of lengths) {
    if (offset + length > bytes.length) throw new StateFormatError('truncated learner state');
    sections.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== bytes.length) throw new StateFormatError('trailing bytes after learner state');
  return { header, sections };
}

export function float64ToBytes(values: Float64Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat64(i * 8, v, true));
  return out;
}

/** Always copies, so the result is aligned and independent of the (possibly pooled) input buffer. */
export function bytesToFloat64(bytes: Uint8Array, expectedLength?: number): Float64Array {
  if (bytes.length % 8 !== 0) throw new StateFormatError('float64 section has a partial value');
  const out = new Float64Array(bytes.length / 8);
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new StateFormatError(`float64 section has ${out.length} values, expected ${expectedLength}`);
  }
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  }
  return out;
}

/** Reads a header field with a type check, so a corrupt BLOB fails loudly instead of half-loading. */
export function headerField<T>(header: unknown, key: string, check: (value: unknown) => value is T): T {
  const value = typeof header === 'object' && header !== null ? (header as Record<string, unknown>)[key] : undefined;
  if (!check(value)) throw new StateFormatError(`learner state header has a bad "${key}"`);
  return value;
}

export const isString = (v: unknown): v is string => typeof v === 'string';
export const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
export const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

export function float32ToBytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

/** Always copies (see bytesToFloat64). */
export function bytesToFloat32(bytes: Uint8Array, expectedLength?: number): Float32Array {
  if (bytes.length % 4 !== 0) throw new StateFormatError('float32 section has a partial value');
  const out = new Float32Array(bytes.length / 4);
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new StateFormatError(`float32 section has ${out.length} values, expected ${expectedLength}`);
  }
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}
