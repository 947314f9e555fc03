import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { findCatalogEntry, loadCatalog, type CatalogEntry } from './catalog.js';
import { cutLabel, prepareFineTuningSplit, type FineTuningSplit } from './fine-tuning-split.js';
import { regularFileProblem } from '../files/read-regular-file.js';
import { writeAtomically } from '../files/write-atomically.js';
import { ModelUnavailableError, obtainModelFile, type ModelFileOrigin } from './model-files.js';
import { importTflite, type Precision } from './tflite/index.js';

/** Bump when the importer's output changes, so cached conversions are redone. */
const IMPORTER_VERSION = 1;

export interface InputPreprocessing {
  height: number;
  width: number;
  mean: [number, number, number];
  std: [number, number, number];
}

export type { FineTuningSplit } from './fine-tuning-split.js';

/** A backbone ready to run: an ONNX file plus how to feed it and where its features are. */
export interface ResolvedBackbone {
  /** Embedding cache key: the catalog id, `<id>@<cut label>` for the split form (its cached
   * vectors are cut activations, never to be mixed with final features), or
   * `onnx-<sha256 prefix>` for a user's ONNX file. */
  key: string;
  name: string;
  onnxPath: string;
  inputName: string;
  featuresName: string;
  /** ImageNet class probabilities, when the backbone keeps its classifier. */
  probabilitiesName?: string;
  /** 'int8': a quantized (QDQ) graph, which runs on the CPU provider only (see openSession). */
  precision?: Precision;
  featureDim: number;
  preprocessing: InputPreprocessing;
  origin: ModelFileOrigin | 'file';
  /** Set when resolved for fine-tuning: then `onnxPath` is the bottom of the split, its
   * `featuresName` the cut and `featureDim` C·H·W (one sample's activation, flattened in
   * [C, H, W] order), and this says where the trainable top is. */
  fineTuning?: FineTuningSplit;
}

export interface ResolveOptions {
  /** Resolve the split form for a learner that fine-tunes the backbone's top (catalog entries with a `fineTuneCut` only). */
  fineTuning?: boolean;
}

/** A backbone that cannot be fine-tuned was asked for in its split form. */
export class NotFineTunableError extends Error {}

export interface BackboneSources {
  cacheDir: string;
  mirrorDir?: string | undefined;
  allowDownload?: boolean;
  /** For a user's ONNX file: the output holding features (default: `features`, else the only 2-D output). */
  featureOutput?: string | undefined;
  /** For a user's ONNX file: normalization on 0..255 RGB (default mean 127.5, std 127.5). */
  mean?: [number, number, number] | undefined;
  std?: [number, number, number] | undefined;
  onProgress?: (receivedBytes: number, totalBytes: number) => void;
}

const ImportedMetaSchema = z.object({
  importerVersion: z.literal(IMPORTER_VERSION),
  sourceSha256: z.string(),
  inputName: z.string(),
  featuresName: z.string(),
  probabilitiesName: z.string().optional(),
  featureDim: z.number().int().positive(),
  featureTaps: z.array(z.string()).optional(),
  /** Absent in conversions cached before int8 import existed: those are float. */
  precision: z.enum(['float', 'int8']).optional(),
});

/** `spec` is a catalog id, a path to an .onnx file, or undefined for the catalog default. */
export async function resolveBackbone(spec: string | undefined, sources: BackboneSources, options: ResolveOptions = {}): Promise<ResolvedBackbone> {
  const id = spec ?? loadCatalog().default;
  const entry = findCatalogEntry(id);
  if (entry) {
    if (!options.fineTuning) return resolveCatalogBackbone(entry, sources);
    // An int8 entry fine-tunes through its float twin: gradients need the float graph, and the
    // split's cached activations are the twin's, under the twin's key.
    const twin = entry.floatTwin ? findCatalogEntry(entry.floatTwin) : undefined;
    if (!entry.fineTuneCut && twin?.fineTuneCut) return resolveCatalogBackbone(twin, sources, twin.fineTuneCut);
    // Refused before anything is downloaded or imported.
    if (!entry.fineTuneCut) throw new NotFineTunableError(`backbone '${entry.id}' cannot be fine-tuned: ${fineTunableIds()}`);
    return resolveCatalogBackbone(entry, sources, entry.fineTuneCut);
  }
  if (existsSync(id)) {
    if (options.fineTuning) throw new NotFineTunableError(`${id}: a user's ONNX file cannot be fine-tuned (it has no known cut): ${fineTunableIds()}`);
    return resolveOnnxFile(path.resolve(id), sources);
  }
  const known = loadCatalog().backbones.map((candidate) => candidate.id).join(', ');
  throw new Error(`unknown backbone '${id}': give a catalog id (${known}) or a path to an .onnx file`);
}

function fineTunableIds(): string {
  const fineTunable = (entry: CatalogEntry) => entry.fineTuneCut ?? (entry.floatTwin ? findCatalogEntry(entry.floatTwin)?.fineTuneCut : undefined);
  const ids = loadCatalog().backbones.filter(fineTunable).map((entry) => entry.id);
  return ids.length > 0 ? `choose a backbone that can (${ids.join(', ')}) or a learner that does not fine-tune` : 'no backbone of this Keizoku can';
}

/** With `cut`: the split form for fine-tuning (the bottom as the model to run, the top beside it). */
async function resolveCatalogBackbone(entry: CatalogEntry, sources: BackboneSources, cut?: string): Promise<ResolvedBackbone> {
  const source = await obtainModelFile(entry, sources);
  const stem = path.join(sources.cacheDir, 'onnx', `${entry.id}.${entry.sha256.slice(0, 12)}.v${IMPORTER_VERSION}`);
  const onnxPath = `${stem}.onnx`;
  let meta = await readImportedMeta(`${stem}.json`, entry.sha256);
  // A catalog edit of the taps or the precision changes the graph without changing the id or the file: reimport.
  const sameTaps = JSON.stringify(meta?.featureTaps ?? []) === JSON.stringify(entry.featureTaps ?? []);
  const precision = entry.precision ?? 'float';
  const samePrecision = (meta?.precision ?? 'float') === precision;
  let reimported = false; // a split made from the previous import is then made again
  if (!meta || !sameTaps || !samePrecision || !existsSync(onnxPath)) {
    reimported = true;
    const imported = importTflite(new Uint8Array(await readFile(source.path)), {
      featureTensor: entry.featureTensor,
      ...(entry.featureTaps ? { featureTaps: entry.featureTaps } : {}),
      ...(precision === 'int8' ? { precision } : {}),
    });
    if (imported.featureDim !== entry.featureDim) {
      throw new Error(`backbone ${entry.id}: imported features are ${imported.featureDim}-d, the catalog says ${entry.featureDim}`);
    }
    meta = {
      importerVersion: IMPORTER_VERSION,
      sourceSha256: entry.sha256,
      inputName: imported.inputName,
      featuresName: imported.featuresName,
      featureDim: imported.featureDim,
      ...(entry.featureTaps ? { featureTaps: entry.featureTaps } : {}),
      ...(imported.probabilitiesName ? { probabilitiesName: imported.probabilitiesName } : {}),
      ...(precision === 'int8' ? { precision } : {}),
    };
    await mkdir(path.dirname(onnxPath), { recursive: true });
    await writeAtomically(onnxPath, imported.onnx);
    await writeAtomically(`${stem}.json`, JSON.stringify(meta, null, 2));
  }
  const preprocessing = { ...entry.input, mean: entry.normalization.mean, std: entry.normalization.std };
  if (cut) {
    const whole = { onnxPath, inputName: meta.inputName, featuresName: meta.featuresName, featureDim: meta.featureDim, ...entry.input };
    const { bottomPath, split } = await prepareFineTuningSplit(whole, cut, { stem, sourceSha256: entry.sha256, rebuild: reimported });
    const [channels, height, width] = split.cutShape;
    return {
      key: `${entry.id}@${cutLabel(cut)}`,
      name: `${entry.name}, split at ${cut} for fine-tuning`,
      onnxPath: bottomPath,
      inputName: meta.inputName,
      featuresName: cut,
      featureDim: channels * height * width,
      preprocessing,
      origin: source.origin,
      fineTuning: split,
    };
  }
  return {
    key: entry.id,
    name: entry.name,
    onnxPath,
    inputName: meta.inputName,
    featuresName: meta.featuresName,
    ...(meta.probabilitiesName ? { probabilitiesName: meta.probabilitiesName } : {}),
    ...(precision === 'int8' ? { precision } : {}),
    featureDim: meta.featureDim,
    preprocessing,
    origin: source.origin,
  };
}

async function readImportedMeta(file: string, sourceSha256: string) {
  try {
    const parsed = ImportedMetaSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success && parsed.data.sourceSha256 === sourceSha256 ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function resolveOnnxFile(file: string, sources: BackboneSources): Promise<ResolvedBackbone> {
  // The path is the user's: a pipe or device named like a model must be refused, not waited on.
  const problem = await regularFileProblem(file);
  if (problem) throw new ModelUnavailableError(`${file}: ${problem}`);
  const bytes = await readFile(file);
  const sha = createHash('sha256').update(bytes).digest('hex');
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const [inputName] = session.inputNames;
    if (!inputName || session.inputNames.length !== 1) throw new Error(`${file}: expected exactly one input, found ${session.inputNames.length}`);
    const input = session.inputMetadata.find((meta) => meta.name === inputName);
    const shape = input && input.isTensor ? input.shape : [];
    const height = shape[2];
    const width = shape[3];
    if (shape.length !== 4 || shape[1] !== 3 || typeof height !== 'number' || typeof width !== 'number') {
      throw new Error(`${file}: input '${inputName}' must be [N,3,H,W] with fixed H and W, found [${shape.join(',')}]`);
    }
    const outputs = session.outputMetadata.filter((meta) => meta.isTensor);
    const wanted = sources.featureOutput ?? (session.outputNames.includes('features') ? 'features' : undefined);
    const twoDimensional = outputs.filter((meta) => meta.isTensor && meta.shape.length === 2);
    const featuresName = wanted ?? (twoDimensional.length === 1 ? twoDimensional[0]!.name : undefined);
    if (!featuresName || !session.outputNames.includes(featuresName)) {
      throw new Error(`${file}: say which output holds the features (--feature-output); outputs are ${session.outputNames.join(', ')}`);
    }
    const featureMeta = outputs.find((meta) => meta.name === featuresName);
    const featureDim = featureMeta && featureMeta.isTensor ? featureMeta.shape[1] : undefined;
    if (typeof featureDim !== 'number') throw new Error(`${file}: output '${featuresName}' must be [N,D] with a fixed D`);
    return {
      key: `onnx-${sha.slice(0, 16)}`,
      name: path.basename(file),
      onnxPath: file,
      inputName,
      featuresName,
      featureDim,
      preprocessing: { height, width, mean: sources.mean ?? [127.5, 127.5, 127.5], std: sources.std ?? [127.5, 127.5, 127.5] },
      origin: 'file',
    };
  } finally {
    await session.release();
  }
}
