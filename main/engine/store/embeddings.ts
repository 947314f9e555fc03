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
  private insertOne: Statement | undefined;

  constructor(private readonly db: Db) {
    // A schema-1 database opened read-only (not migrated) has no encoding column: all float32.
    const hasEncoding = (db.pragma('table_info(embeddings)') as Array<{ name: string }>).some((column) => column.name === 'encoding');
    this.selectOne = db.prepare(`SELECT vector, ${hasEncoding ? 'encoding' : "'float32' AS encoding"} FROM embeddings WHERE content_hash = ? AND backbone = ?`);
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

  /** Gathers vectors for many hashes into one row-major matrix; throws if one is missing. */
  matrix(contentHashes: readonly string[], backbone: string, dim: number): Float32Array {
    const out = new Float32Array(contentHashes.length * dim);
    contentHashes.forEach((hash, row) => {
      const vector = this.get(hash, backbone);
      if (!vector || vector.length !== dim) throw new Error(`embedding cache: no ${dim}-d vector for ${hash} (${backbone})`);
      out.set(vector, row * dim);
    });
    return out;
  }
}

function decodeVector(blob: Buffer, encoding: string): Float32Array {
  if (encoding === 'float32') return blobToFloat32(blob);
  if (encoding === 'activation-u8') return decodeActivation(blob).values;
  throw new Error(`embedding cache: a vector in an unknown encoding '${encoding}'`);
}
