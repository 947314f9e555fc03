// Schema v2. Numbered, append-only: never edit a released migration, add the next one.
// Fine-tuning caches activations at the backbone's cut, about 30 KB a sample as float32; they are
// stored quantized instead (finetune/activation-codec.ts), so each row says how its vector is
// encoded. Existing rows are float32 vectors.
export const migration002 = `
ALTER TABLE embeddings ADD COLUMN encoding TEXT NOT NULL DEFAULT 'float32'
  CHECK (encoding IN ('float32', 'activation-u8'));
`;
