import { blobToFloat32, float32ToBlob } from './blobs.js';
import type { Db } from './database.js';

/** The embedding cache: content hash + backbone → vector. */
export class EmbeddingStore {
  private readonly selectOne;
  private readonly insertOne;

  constructor(private readonly db: Db) {
    this.selectOne = db.prepare('SELECT vector FROM embeddings WHERE content_hash = ? AND backbone = ?');
    this.insertOne = db.prepare(
      `INSERT INTO embeddings (content_hash, backbone, dim, vector, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (content_hash, backbone) DO NOTHING`,
    );
  }

  get(contentHash: string, backbone: string): Float32Array | undefined {
    const row = this.selectOne.get(contentHash, backbone) as { vector: Buffer } | undefined;
    return row ? blobToFloat32(row.vector) : undefined;
  }

  /** Stores many vectors in one transaction (one fsync instead of one per file). */
  putMany(backbone: string, items: ReadonlyArray<{ contentHash: string; vector: Float32Array }>): void {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const item of items) this.insertOne.run(item.contentHash, backbone, item.vector.length, float32ToBlob(item.vector), now);
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
