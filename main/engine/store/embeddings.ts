import { decodeActivation, encodeActivation } from '../finetune/activation-codec.js';
import { blobToFloat32, float32ToBlob } from './blobs.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';

/** C, H, W of one sample's activation at a fine-tuning cut (row-major [C, H, W] vectors). */
export type ActivationShape = readonly [number, number, number];

/** How a row's vector is stored: plain float32, or quantized by the activation codec (uint8 per channel). */
export type EmbeddingEncoding = 'float32' | 'activation-u8';

/**
 * The embedding cache: content hash + backbone → vector. Backbone features are stored as float32;
 * cut activations of a backbone split for fine-tuning are stored quantized (a third of the size,
 * within the codec's error). Readers always get float32, whatever the encoding.
 */
export class EmbeddingStore {
  private readonly selectOne;
  private readonly selectMany;
  private readonly existsMany;
  private insertOne: Statement | undefined;

  constructor(private readonly db: Db) {
    // A schema-1 database opened read-only (not migrated) has no encoding column: all float32.
    const hasEncoding = (db.pragma('table_info(embeddings)') as Array<{ name: string }>).some((column) => column.name === 'encoding');
    const encoding = hasEncoding ? 'encoding' : "'float32' AS encoding";
    this.selectOne = db.prepare(`SELECT vector, ${encoding} FROM embeddings WHERE content_hash = ? AND backbone = ?`);
    // Many hashes in one statement: a JSON array of them, joined against the primary key.
    this.selectMany = db.prepare(
      `SELECT content_hash AS hash, vector, ${encoding} FROM embeddings WHERE backbone = ? AND content_hash IN (SELECT value FROM json_each(?))`,
    );
    this.existsMany = db
      .prepare('SELECT content_hash FROM embeddings WHERE backbone = ? AND content_hash IN (SELECT value FROM json_each(?))')
      .pluck();
  }

  /** Prepared on first use: a read-only connection to an older schema could not prepare it. */
  private insert() {
    this.insertOne ??= this.db.prepare(
      `INSERT INTO embeddings (content_hash, backbone, dim, vector, encoding, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (content_hash, backbone) DO NOTHING`,
    );
    return this.insertOne;
  }

  get(contentHash: string, backbone: string): Float32Array | undefined {
    const row = this.selectOne.get(contentHash, backbone) as { vector: Buffer; encoding: string } | undefined;
    return row ? decodeVector(row.vector, row.encoding) : undefined;
  }

  /**
   * Which of many hashes are cached, without reading the vectors: one statement per MATRIX_CHUNK
   * hashes, whose IN list SQLite probes in key order (neighbouring leaf pages) rather than in
   * the caller's order (a random leaf, mostly out of the page cache, per hash).
   */
  present(contentHashes: readonly string[], backbone: string): Set<string> {
    const found = new Set<string>();
    for (let start = 0; start < contentHashes.length; start += MATRIX_CHUNK) {
      const chunk = JSON.stringify(contentHashes.slice(start, start + MATRIX_CHUNK));
      for (const hash of this.existsMany.iterate(backbone, chunk) as IterableIterator<string>) found.add(hash);
    }
    return found;
  }

  /**
   * Stores many vectors in one transaction (one fsync instead of one per file). With
   * `activationShape` the vectors are cut activations of that shape, stored quantized.
   */
  putMany(backbone: string, items: ReadonlyArray<{ contentHash: string; vector: Float32Array }>, activationShape?: ActivationShape): void {
    const now = new Date().toISOString();
    const encoding: EmbeddingEncoding = activationShape ? 'activation-u8' : 'float32';
    const encode = (vector: Float32Array): Buffer => {
      if (!activationShape) return float32ToBlob(vector);
      const bytes = encodeActivation(vector, ...activationShape);
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    };
    this.db.transaction(() => {
      const insert = this.insert();
      for (const item of items) insert.run(item.contentHash, backbone, item.vector.length, encode(item.vector), encoding, now);
    })();
  }

  /**
   * Gathers vectors for many hashes into one row-major matrix; throws if one is missing. Reads
   * them in chunks of MATRIX_CHUNK hashes, one statement each, rows streamed straight into place.
   */
  matrix(contentHashes: readonly string[], backbone: string, dim: number): Float32Array {
    const out = new Float32Array(contentHashes.length * dim);
    const filled = new Uint8Array(contentHashes.length);
    for (let start = 0; start < contentHashes.length; start += MATRIX_CHUNK) {
      const end = Math.min(contentHashes.length, start + MATRIX_CHUNK);
      // A hash can stand in several rows (the same file in two classes).
      const rowsOf = new Map<string, number[]>();
      for (let row = start; row < end; row++) {
        const rows = rowsOf.get(contentHashes[row]!);
        if (rows) rows.push(row);
        else rowsOf.set(contentHashes[row]!, [row]);
      }
      for (const found of this.selectMany.iterate(backbone, JSON.stringify([...rowsOf.keys()])) as IterableIterator<{ hash: string; vector: Buffer; encoding: string }>) {
        const rows = rowsOf.get(found.hash);
        if (!rows) continue;
        // float32 rows are copied byte for byte into place; other encodings are decoded first.
        const plain = found.encoding === 'float32';
        const decoded = plain ? null : decodeVector(found.vector, found.encoding);
        if ((decoded ? decoded.length : found.vector.byteLength / 4) !== dim) {
          throw new Error(`embedding cache: no ${dim}-d vector for ${found.hash} (${backbone})`);
        }
        for (const row of rows) {
          if (decoded) out.set(decoded, row * dim);
          else new Uint8Array(out.buffer, row * dim * 4, dim * 4).set(found.vector);
          filled[row] = 1;
        }
      }
    }
    const missing = filled.indexOf(0);
    if (missing >= 0) throw new Error(`embedding cache: no ${dim}-d vector for ${contentHashes[missing]} (${backbone})`);
    return out;
  }
}

/** Hashes per statement in matrix(): bounds the JSON text and the lookup map, not the result. */
const MATRIX_CHUNK = 4096;

function decodeVector(blob: Buffer, encoding: string): Float32Array {
  if (encoding === 'float32') return blobToFloat32(blob);
  if (encoding === 'activation-u8') return decodeActivation(blob).values;
  throw new Error(`embedding cache: a vector in an unknown encoding '${encoding}'`);
}
