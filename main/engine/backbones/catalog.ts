import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const rgb = z.tuple([z.number(), z.number(), z.number()]);

export const CatalogEntrySchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/),
  name: z.string(),
  format: z.enum(['tflite', 'onnx']),
  fileName: z.string().regex(/^[\w.-]+$/),
  url: z.string().url(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  license: z.string(),
  input: z.object({ height: z.number().int().positive(), width: z.number().int().positive() }),
  /** value = (pixel − mean) / std on 0..255 RGB */
  normalization: z.object({ mean: rgb, std: rgb }),
  featureTensor: z.string(),
  /** Earlier activations pooled and appended to the features, each block L2-normalized (tflite only). */
  featureTaps: z.array(z.string()).min(1).optional(),
  featureDim: z.number().int().positive(),
  /** Where fine-tuning splits the model: the tensor whose activation is cached per sample; the
   * layers after it are trained. Only entries that name one can be fine-tuned. */
  fineTuneCut: z.string().min(1).optional(),
  /** How a quantized TFLite model is imported: 'float' (default) dequantizes it and runs float
   * kernels on any provider; 'int8' keeps its integers (a QDQ graph) and runs on the CPU
   * provider's integer kernels. The features differ slightly, so an entry is one or the other. */
  precision: z.enum(['float', 'int8']).optional(),
  /** For an int8 entry: the float entry of the same file. It is what fine-tuning trains (the
   * split of the float graph), and what a new project on a GPU gets instead (see default-choice). */
  floatTwin: z.string().optional(),
});
export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;

const CatalogSchema = z.object({ default: z.string(), backbones: z.array(CatalogEntrySchema).min(1) });
export type Catalog = z.infer<typeof CatalogSchema>;

/** resources/ sits beside main/ in the repo and beside dist/main/ once built. */
function resourcesDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../../resources'), path.resolve(here, '../../../../resources')];
  return process.env.KEIZOKU_RESOURCES_DIR ?? candidates.find((dir) => existsSync(path.join(dir, 'backbones.json'))) ?? candidates[0]!;
}

let cached: Catalog | undefined;

export function loadCatalog(): Catalog {
  if (!cached) {
    const raw = JSON.parse(readFileSync(path.join(resourcesDir(), 'backbones.json'), 'utf8'));
    const catalog = CatalogSchema.parse(raw);
    if (!catalog.backbones.some((entry) => entry.id === catalog.default)) {
      throw new Error(`backbone catalog: default '${catalog.default}' is not listed`);
    }
    for (const entry of catalog.backbones) {
      const twin = entry.floatTwin && catalog.backbones.find((candidate) => candidate.id === entry.floatTwin);
      if (entry.floatTwin && !(twin && (twin.precision ?? 'float') === 'float' && twin.sha256 === entry.sha256)) {
        throw new Error(`backbone catalog: '${entry.id}' names '${entry.floatTwin}' as its float twin, which is not a float entry of the same file`);
      }
    }
    cached = catalog;
  }
  return cached;
}

export function findCatalogEntry(id: string): CatalogEntry | undefined {
  return loadCatalog().backbones.find((entry) => entry.id === id);
}
