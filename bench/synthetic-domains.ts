// Synthetic domains for the `domains` section, derived deterministically from Caltech-101 photos
// with sharp: line drawings (greyscale → Sobel edges → threshold → invert) and ImageNet-C-style
// corruptions (low contrast under fog, Gaussian noise, Gaussian blur; one per image, rotating).
// They are synthetic shifts of the same photos, not real sketches or real bad weather.
//
// Derived images go to bench-results/synthetic-domains-<key>/ (gitignored, never ../shared),
// where <key> hashes the generator version, its parameters and the libvips version: changing the
// generator writes a new folder instead of reusing stale images. A folder is complete once its
// manifest.json exists (written last); an incomplete one is rebuilt.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { seededRandom } from '../main/engine/learners/seeded-random.js';
import { listClasses, listFiles, type PhotoFile } from './datasets.js';
import { CALTECH_DIR, RESULTS_DIR } from './paths.js';

export const DOMAINS = ['photo', 'drawing', 'corrupted'] as const;
export type Domain = (typeof DOMAINS)[number];

export const CORRUPTIONS = ['fog', 'noise', 'blur'] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

/** Bump when the output of any generator changes. */
const GENERATOR_VERSION = 1;

export const DOMAIN_PARAMETERS = {
  /** Every 4th class of the 100 (sorted by code units, starting at the first): 25 classes. */
  classStride: 4,
  /** First N train photos of each class (by file name); Caltech has 30. */
  trainPerClass: 30,
  drawing: {
    /** Gaussian smoothing before the edge filter, so JPEG blocks and fine texture do not become lines. */
    blurSigma: 1.2,
    /** A pixel is a line where its Sobel magnitude is in the top share of the image's pixels… */
    lineShare: 0.1,
    /** …and at least this large (0–1020 scale): flat images do not get noise lines. */
    minMagnitude: 60,
  },
  /** ImageNet-C severity 4 of 5 (Hendrycks & Dietterich 2019) for each corruption. */
  corruption: {
    /** contrast: x ← (x − mean)·c + mean with c 0.1 (severity 4), under a smooth seeded fog field
     * that lightens by up to `fogStrength` (on 0–1). */
    contrast: 0.1,
    fogStrength: 0.35,
    /** Fog field resolution before smooth upscaling (cells per side). */
    fogCells: 6,
    /** gaussian_noise σ on 0–1 pixels, severity 4. */
    noiseSigma: 0.26,
    /** gaussian_blur σ in pixels, severity 4 (for 224 px images; Caltech's are ≤ 256 px). */
    blurSigma: 4,
  },
} as const;


/**
 * The classes of the scenario: every `classStride`-th Caltech class in code-unit order. A fixed
 * rule rather than a hand-picked list, so no class was chosen for how it behaves; it spreads the
 * pick over the whole alphabet (Faces, Motorbikes, …, wrench) and gives 25 classes.
 */
export function domainClasses(dir = CALTECH_DIR): string[] {
  return listClasses(dir, 'train').filter((_, i) => i % DOMAIN_PARAMETERS.classStride === 0);
}

export function generatorKey(): string {
  return createHash('sha256')
    .update(JSON.stringify({ version: GENERATOR_VERSION, parameters: DOMAIN_PARAMETERS, vips: sharp.versions.vips }))
    .digest('hex')
    .slice(0, 16);
}

/** The corruption applied to the i-th file of a class (files sorted by name): rotates, so every
 * class has each kind in equal share. */
export function corruptionOf(indexInClass: number): Corruption {
  return CORRUPTIONS[indexInClass % CORRUPTIONS.length]!;
}

/** A 32-bit seed from a file's relative path (so noise differs per image yet is reproducible). */
function seedOf(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0);
}

/** Decoded, EXIF-oriented RGB pixels. */
async function rgbPixels(file: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(file).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${file}: expected 3 channels after conversion, got ${info.channels}`);
  return { data, width: info.width, height: info.height };
}

function rawRgb(data: Buffer | Uint8Array, width: number, height: number, channels: 1 | 3 = 3) {
  return sharp(data, { raw: { width, height, channels } });
}

/** Line drawing: black lines on white, one channel. */
export async function lineDrawing(file: string): Promise<Buffer> {
  const p = DOMAIN_PARAMETERS.drawing;
  const grey = sharp(file).rotate().greyscale().blur(p.blurSigma);
  // Sobel in both directions with sharp's convolution; uchar output, so the signed response is
  // stored as g/4 + 128 (|g| ≤ 1020 → 0–255).
  const sobel = (kernel: number[]) =>
    grey.clone().convolve({ width: 3, height: 3, kernel, scale: 4, offset: 128 }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  const [gx, gy] = await Promise.all([sobel([-1, 0, 1, -2, 0, 2, -1, 0, 1]), sobel([-1, -2, -1, 0, 0, 0, 1, 2, 1])]);
  const { width, height } = gx.info;
  const n = width * height;
  const magnitude = new Float32Array(n);
  for (let i = 0; i < n; i++) magnitude[i] = 4 * Math.hypot(gx.data[i]! - 128, gy.data[i]! - 128);
  const sorted = Float32Array.from(magnitude).sort();
  const threshold = Math.max(p.minMagnitude, sorted[Math.min(n - 1, Math.floor(n * (1 - p.lineShare)))]!);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = magnitude[i]! > threshold ? 0 : 255;
  return rawRgb(out, width, height, 1).png({ compressionLevel: 9 }).toBuffer();
}

/** A standard normal draw (Box–Muller) from a uniform source. */
function gaussian(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** One ImageNet-C-style corruption of a photo, deterministic given `seed`. */
export async function corrupt(file: string, kind: Corruption, seed: number): Promise<Buffer> {
  const p = DOMAIN_PARAMETERS.corruption;
  if (kind === 'blur') {
    return sharp(file).rotate().removeAlpha().toColourspace('srgb').blur(p.blurSigma).png({ compressionLevel: 9 }).toBuffer();
  }
  const { data, width, height } = await rgbPixels(file);
  const random = seededRandom(seed);
  const out = new Uint8Array(data.length);
  if (kind === 'noise') {
    for (let i = 0; i < data.length; i++) out[i] = clampByte(data[i]! + 255 * p.noiseSigma * gaussian(random));
  } else {
    // Fog: a coarse seeded random field, upscaled smoothly to the image size, lightens the
    // contrast-reduced photo unevenly.
    const cells = p.fogCells;
    const coarse = new Uint8Array(cells * cells);
    for (let i = 0; i < coarse.length; i++) coarse[i] = Math.floor(random() * 256);
    const fog = await sharp(coarse, { raw: { width: cells, height: cells, channels: 1 } })
      .resize(width, height, { kernel: 'cubic', fit: 'fill' })
      .blur(Math.max(width, height) / cells / 2)
      .extractChannel(0)
      .raw()
      .toBuffer();
    if (fog.length !== width * height) throw new Error(`fog field: ${fog.length} bytes for ${width}×${height}`);
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum += data[i]!;
    const mean = sum / data.length;
    for (let i = 0; i < data.length; i++) {
      const x = (data[i]! - mean) * p.contrast + mean;
      const f = p.fogStrength * (fog[Math.floor(i / 3)]! / 255);
      out[i] = clampByte(x * (1 - f) + 255 * f);
    }
  }
  return rawRgb(out, width, height).png({ compressionLevel: 9 }).toBuffer();
}

function clampByte(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

export interface DomainFiles {
  classes: string[];
  /** Files per domain and split; relPath is `<class>/<name>` as embedSplit expects. */
  files: Record<Domain, Record<'train' | 'test', PhotoFile[]>>;
  /** The corruption of each corrupted file, by relPath. */
  corruptionByFile: Record<string, Corruption>;
  /** Folder of the derived images. */
  dir: string;
  key: string;
  /** Whether this call generated the images (false: found complete in the cache). */
  generated: boolean;
  generateMs: number;
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** The photos of the scenario, and their drawings and corruptions (generated unless cached). */
export async function prepareDomainFiles(log: (message: string) => void = () => {}): Promise<DomainFiles> {
  const classes = domainClasses();
  const photos = {
    train: classes.flatMap((c) => listFiles(CALTECH_DIR, 'train', [c]).slice(0, DOMAIN_PARAMETERS.trainPerClass)),
    test: listFiles(CALTECH_DIR, 'test', classes),
  };
  const key = generatorKey();
  const dir = path.join(RESULTS_DIR, `synthetic-domains-${key}`);
  const manifest = path.join(dir, 'manifest.json');
  const derivedName = (photo: PhotoFile) => `${photo.relPath.replace(/\.[^./]+$/, '')}.png`;
  const corruptionByFile: Record<string, Corruption> = {};
  const files = { photo: photos } as DomainFiles['files'];
  for (const domain of ['drawing', 'corrupted'] as const) {
    files[domain] = { train: [], test: [] };
    for (const split of ['train', 'test'] as const) {
      let previousClass = '';
      let indexInClass = 0;
      for (const photo of photos[split]) {
        indexInClass = photo.className === previousClass ? indexInClass + 1 : 0;
        previousClass = photo.className;
        const relPath = derivedName(photo);
        files[domain][split].push({ absPath: path.join(dir, domain, split, relPath), relPath, className: photo.className });
        if (domain === 'corrupted') corruptionByFile[`${split}/${relPath}`] = corruptionOf(indexInClass);
      }
    }
  }
  const t0 = performance.now();
  let generated = false;
  if (!existsSync(manifest)) {
    generated = true;
    const staging = `${dir}.partial-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    const jobs: Array<{ photo: PhotoFile; domain: 'drawing' | 'corrupted'; split: 'train' | 'test'; relPath: string }> = [];
    for (const split of ['train', 'test'] as const) {
      for (const photo of photos[split]) {
        for (const domain of ['drawing', 'corrupted'] as const) jobs.push({ photo, domain, split, relPath: derivedName(photo) });
      }
    }
    log(`generating ${jobs.length} derived images into ${path.relative(process.cwd(), dir) || dir}`);
    let done = 0;
    await mapLimit(jobs, 4, async ({ photo, domain, split, relPath }) => {
      const bytes =
        domain === 'drawing'
          ? await lineDrawing(photo.absPath)
          : await corrupt(photo.absPath, corruptionByFile[`${split}/${relPath}`]!, seedOf(`${split}/${photo.relPath}`));
      const target = path.join(staging, domain, split, relPath);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, bytes);
      if (++done % 500 === 0) log(`  ${done}/${jobs.length}`);
    });
    writeFileSync(
      path.join(staging, 'manifest.json'),
      JSON.stringify({ generatorVersion: GENERATOR_VERSION, parameters: DOMAIN_PARAMETERS, vips: sharp.versions.vips, classes, images: jobs.length }, null, 2),
    );
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  }
  // Drop folders of older generator versions: they are never read again.
  for (const entry of existsSync(RESULTS_DIR) ? readdirSync(RESULTS_DIR) : []) {
    if (entry.startsWith('synthetic-domains-') && entry !== path.basename(dir) && !entry.includes('.partial-')) {
      rmSync(path.join(RESULTS_DIR, entry), { recursive: true, force: true });
    }
  }
  return { classes, files, corruptionByFile, dir, key, generated, generateMs: performance.now() - t0 };
}

