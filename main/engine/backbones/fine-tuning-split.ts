// A backbone resolved for fine-tuning runs in two parts: the frozen bottom (image → activation at
// the catalog's cut) takes the whole model's place as the feature extractor, so sync caches cut
// activations instead of final features; the top (cut → features) is what the learner trains.
// Both parts are split from the imported model once and kept beside it in the cache folder.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { writeAtomically } from '../files/write-atomically.js';
import { splitBackbone } from '../finetune/backbone-split.js';

/** Bump when the split's output changes, so cached splits are redone. */
const SPLIT_VERSION = 1;

/** The trainable top of a backbone resolved for fine-tuning. */
export interface FineTuningSplit {
  /** The tensor the backbone is cut at: the bottom's output, the top's input. */
  cut: string;
  /** C, H, W of one sample's cut activation (the backbone graph is NCHW). */
  cutShape: [number, number, number];
  /** ONNX model: cut activation [N, C, H, W] → features [N, topFeatureDim]. */
  topPath: string;
  topInput: string;
  topOutput: string;
  topFeatureDim: number;
}

/** The imported whole model the split is made from. */
export interface WholeBackbone {
  onnxPath: string;
  inputName: string;
  featuresName: string;
  featureDim: number;
  height: number;
  width: number;
}

const SplitMetaSchema = z.object({
  splitVersion: z.literal(SPLIT_VERSION),
  sourceSha256: z.string(),
  cut: z.string(),
  cutShape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  topInput: z.string(),
  topOutput: z.string(),
  topFeatureDim: z.number().int().positive(),
});
type SplitMeta = z.infer<typeof SplitMetaSchema>;

/** A short, file-name-safe label for a cut: `MobilenetV2/expanded_conv_15/add` → `expanded_conv_15-add`. */
export function cutLabel(cut: string): string {
  const parts = cut.split('/').filter((part) => part !== '');
  // The first segment is the model's own scope, the same for every tensor of it.
  return (parts.length > 1 ? parts.slice(1) : parts).join('-').replace(/[^\w.-]/g, '-');
}

/**
 * The bottom model's path and the split's description, splitting `whole` at `cut` unless the cache
 * (files stemmed `stem`) already holds this split of this source. `rebuild` forces a new split
 * (the whole model was just imported again).
 */
export async function prepareFineTuningSplit(
  whole: WholeBackbone,
  cut: string,
  cache: { stem: string; sourceSha256: string; rebuild: boolean },
): Promise<{ bottomPath: string; split: FineTuningSplit }> {
  const stem = `${cache.stem}.cut-${cutLabel(cut)}`;
  const bottomPath = `${stem}.bottom.onnx`;
  const topPath = `${stem}.top.onnx`;
  let meta = cache.rebuild ? undefined : await readSplitMeta(`${stem}.json`, cache.sourceSha256, cut);
  if (!meta || !existsSync(bottomPath) || !existsSync(topPath)) {
    const model = onnxProto.onnx.ModelProto.decode(await readFile(whole.onnxPath));
    const parts = splitBackbone(model, { inputName: whole.inputName, featuresName: whole.featuresName, cut });
    const bottom = onnxProto.onnx.ModelProto.encode(parts.bottom).finish();
    const top = onnxProto.onnx.ModelProto.encode(parts.top).finish();
    const measured = await measureSplit(whole, cut, bottom, top);
    meta = { splitVersion: SPLIT_VERSION, sourceSha256: cache.sourceSha256, cut, topInput: cut, topOutput: whole.featuresName, ...measured };
    await writeAtomically(bottomPath, bottom);
    await writeAtomically(topPath, top);
    // The meta last: present only once both models are in place.
    await writeAtomically(`${stem}.json`, JSON.stringify(meta, null, 2));
  }
  const { cutShape, topInput, topOutput, topFeatureDim } = meta;
  return { bottomPath, split: { cut, cutShape, topPath, topInput, topOutput, topFeatureDim } };
}

/**
 * The cut's shape is symbolic in the graph (the importer does not infer shapes): run the bottom on
 * one zero image to fix it, and the top on that activation to check it yields the whole model's
 * features. One thread: this runs once per backbone and cut.
 */
async function measureSplit(
  whole: WholeBackbone,
  cut: string,
  bottom: Uint8Array,
  top: Uint8Array,
): Promise<{ cutShape: [number, number, number]; topFeatureDim: number }> {
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const bottomSession = await ort.InferenceSession.create(bottom, options);
  try {
    const image = new ort.Tensor('float32', new Float32Array(3 * whole.height * whole.width), [1, 3, whole.height, whole.width]);
    const activation = (await bottomSession.run({ [whole.inputName]: image }))[cut];
    const [n, c, h, w, ...rest] = activation?.dims ?? [];
    if (!activation || n !== 1 || c === undefined || h === undefined || w === undefined || rest.length > 0) {
      throw new Error(`fine-tuning cut '${cut}' must be an [N, C, H, W] activation, found [${activation?.dims.join(', ') ?? ''}]`);
    }
    const topSession = await ort.InferenceSession.create(top, options);
    try {
      const features = (await topSession.run({ [cut]: activation }))[whole.featuresName];
      const topFeatureDim = features ? features.data.length : 0;
      if (topFeatureDim !== whole.featureDim) {
        throw new Error(`the top split at '${cut}' gives ${topFeatureDim} features, the whole backbone ${whole.featureDim}`);
      }
      return { cutShape: [c, h, w], topFeatureDim };
    } finally {
      await topSession.release();
    }
  } finally {
    await bottomSession.release();
  }
}

async function readSplitMeta(file: string, sourceSha256: string, cut: string): Promise<SplitMeta | undefined> {
  try {
    const parsed = SplitMetaSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success && parsed.data.sourceSha256 === sourceSha256 && parsed.data.cut === cut ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
