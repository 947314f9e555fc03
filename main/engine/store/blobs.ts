/** Float32 vectors ⇄ SQLite BLOBs. Buffers from SQLite may sit at unaligned offsets, so copy. */
export function float32ToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

export function blobToFloat32(blob: Uint8Array): Float32Array {
  const copy = new Uint8Array(blob.byteLength);
  copy.set(blob);
  return new Float32Array(copy.buffer);
}
