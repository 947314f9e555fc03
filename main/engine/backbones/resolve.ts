import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { findCatalogEntry, loadCatalog, type CatalogEntry } from './catalog.js';
import { regularFileProblem } from '../files/read-regular-file.js';
import { ModelUnavailableError, obtainModelFile, type ModelFileOrigin } from './model-files.js';
import { importTflite } from './tflite/index.js';

/** Bump when the importer's output changes, so cached conversions are redone. */
const IMPORTER_VERSION = 1;

export interface InputPreprocessing {
  height: number;
  width: number;
  mean: [number, number, number];
  std: [number, number, number];
}

/** A backbone ready to run: an ONNX file plus how to feed it and where its features are. */
export interface ResolvedBackbone {
  /** Embedding cache key: the catalog id, or `onnx-<sha256 prefix>` for a user's ONNX file. */
  key: string;
  name: string;
  onnxPath: string;
  inputName: string;
  featuresName: string;
  /** ImageNet class probabilities, when the backbone keeps its classifier. */
  probabilitiesName?: string;
  featureDim: number;
  preprocessing: InputPreprocessing;
  origin: ModelFileOrigin | 'file';
}

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
});

/** `spec` is a catalog id, a path to an .onnx file, or undefined for the catalog default. */
export async function resolveBackbone(spec: string | undefined, sources: BackboneSources): Promise<ResolvedBackbone> {
  const id = spec ?? loadCatalog().default;
  const entry = findCatalogEntry(id);
  if (entry) return resolveCatalogBackbone(entry, sources);
  if (existsSync(id)) return resolveOnnxFile(path.resolve(id), sources);
  const known = loadCatalog().backbones.map((candidate) => candidate.id).join(', ');
  throw new Error(`unknown backbone '${id}': give a catalog id (${known}) or a path to an .onnx file`);
}

async function resolveCatalogBackbone(entry: CatalogEntry, sources: BackboneSources): Promise<ResolvedBackbone> {
  const source = await obtainModelFile(entry, sources);
  const stem = path.join(sources.cacheDir, 'onnx', `${entry.id}.${entry.sha256.slice(0, 12)}.v${IMPORTER_VERSION}`);
  const onnxPath = `${stem}.onnx`;
  let meta = await readImportedMeta(`${stem}.json`, entry.sha256);
  // A catalog edit of the taps changes the graph without changing the id or the file: reimport.
  const sameTaps = JSON.stringify(meta?.featureTaps ?? []) === JSON.stringify(entry.featureTaps ?? []);
  if (!meta || !sameTaps || !existsSync(onnxPath)) {
    const imported = importTflite(new Uint8Array(await readFile(source.path)), {
      featureTensor: entry.featureTensor,
      ...(entry.featureTaps ? { featureTaps: entry.featureTaps } : {}),
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
    };
    await mkdir(path.dirname(onnxPath), { recursive: true });
    await writeAtomically(onnxPath, imported.onnx);
    await writeAtomically(`${stem}.json`, JSON.stringify(meta, null, 2));
  }
  return {
    key: entry.id,
    name: entry.name,
    onnxPath,
    inputName: meta.inputName,
    featuresName: meta.featuresName,
    ...(meta.probabilitiesName ? { probabilitiesName: meta.probabilitiesName } : {}),
    featureDim: meta.featureDim,
    preprocessing: { ...entry.input, mean: entry.normalization.mean, std: entry.normalization.std },
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

async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, data);
  await rename(partial, file);
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
