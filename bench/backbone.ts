// The default backbone as the product loads it: resolved from the catalog (the shared Coral
// folder as mirror, no download), opened on CPU with the default thread count.
import type * as ort from 'onnxruntime-node';
import { resolveBackbone, type ResolveOptions, type ResolvedBackbone } from '../main/engine/backbones/resolve.js';
import { createOnnxFeatureExtractor, type FeatureExtractor } from '../main/engine/embedding/index.js';
import { defaultThreads, openSession, type SessionThreads } from '../main/engine/runtime/devices.js';
import { MODEL_MIRROR_DIR } from './paths.js';

export interface LoadedBackbone {
  backbone: ResolvedBackbone;
  session: ort.InferenceSession;
  extractor: FeatureExtractor;
  threads: SessionThreads;
}

/** `id`: a catalog id (default: the catalog's default), for variant measurements; `options.fineTuning`:
 * the bottom of the backbone split for fine-tuning, whose features are the cut activations. */
export function resolveDefaultBackbone(cacheDir: string, id?: string, options: ResolveOptions = {}): Promise<ResolvedBackbone> {
  return resolveBackbone(id, { cacheDir, mirrorDir: MODEL_MIRROR_DIR, allowDownload: false }, options);
}

export async function loadBackbone(cacheDir: string, id?: string, options: ResolveOptions = {}): Promise<LoadedBackbone> {
  const backbone = await resolveDefaultBackbone(cacheDir, id, options);
  const threads = defaultThreads();
  const { session } = await openSession(backbone.onnxPath, 'cpu', threads);
  const extractor = createOnnxFeatureExtractor(
    session,
    { inputName: backbone.inputName, featuresName: backbone.featuresName },
    backbone.featureDim,
    backbone.preprocessing,
  );
  return { backbone, session, extractor, threads };
}

/** A few batches of noise through the session, so first-run costs (allocations, kernel selection) are not timed. */
export async function warmUp(extractor: FeatureExtractor, batchSize = 16, batches = 3): Promise<void> {
  const { height, width } = extractor.preprocessing;
  const pixels = new Float32Array(batchSize * 3 * height * width);
  for (let i = 0; i < pixels.length; i++) pixels[i] = ((i * 2654435761) % 2001) / 1000 - 1;
  for (let b = 0; b < batches; b++) await extractor.run(pixels, batchSize);
}
