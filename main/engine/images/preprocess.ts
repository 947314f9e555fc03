import sharp, { type Sharp } from 'sharp';
import { decodeBmp } from './bmp.js';
import { FORMAT_LABEL, sniffFormat, type RasterFormat } from './sniff.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits, type Preprocessing, type PreprocessResult } from './types.js';

/*
 * sharp settings, chosen for a 2-core machine that also runs ONNX Runtime:
 * - concurrency(1): libvips threads *per image*. Our images are small (resized to 224²), so splitting
 *   one image over threads buys little and costs synchronisation; parallelism comes from decoding
 *   several files at once on the libuv pool instead (embedFiles' decodeConcurrency). It also keeps
 *   sharp from competing with ORT's intra-op threads. (It is also sharp's own default on glibc
 *   without jemalloc; we set it so behaviour doesn't depend on the platform.)
 * - cache(false): the operation cache only helps when the same input is processed repeatedly; we
 *   decode thousands of distinct files once each, so it would only hold ~50 MB and file handles.
 * configureSharp() lets the app override this.
 */
export function configureSharp(options: { concurrency?: number; cache?: boolean } = {}): void {
  sharp.concurrency(options.concurrency ?? 1);
  sharp.cache(options.cache ?? false);
}
configureSharp();

/**
 * Shrinking: bilinear (antialiased), like the ImageNet eval transforms the backbones were trained
 * with, and ~25% cheaper than lanczos3. Enlarging (photos smaller than the model input): bicubic,
 * which keeps more of the little detail there is. Measured on CIFAR-10 (32 px photos enlarged to
 * 224), analytic joint accuracy: bilinear 68.6 %, bicubic 71.1 %, mitchell / lanczos2 / lanczos3
 * also 71.1 % at 7–10 % more decode time than bicubic; Caltech-101 unchanged.
 */
function resizeKernel(width: number | undefined, height: number | undefined, prep: Preprocessing): 'linear' | 'cubic' {
  if (!width || !height) return 'linear';
  const scale = Math.max(prep.width / width, prep.height / height); // 'cover' scale
  return scale > 1 ? 'cubic' : 'linear';
}

/**
 * Alpha is flattened onto white rather than dropped: fully transparent pixels often hold arbitrary
 * (frequently black) RGB that the user never sees, while white is what viewers and file browsers
 * show for cut-out product shots and logos. Same rule for training and prediction.
 */
const FLATTEN_BACKGROUND = { r: 255, g: 255, b: 255 };

export type DecodeRgbResult =
  | { ok: true; rgb: Buffer /* H×W×3 uint8, HWC */ }
  | { ok: false; reason: string };

function formatMegapixels(px: number): string {
  return `${parseFloat((px / 1e6).toPrecision(3))}`;
}

function tooLargeReason(width: number, height: number, limit: number): string {
  return `image too large: ${width}×${height} px exceeds the ${formatMegapixels(limit)} MP limit`;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

export function fileTooLargeReason(size: number, limit: number): string {
  return `file too large: ${formatBytes(size)} exceeds the ${formatBytes(limit)} limit`;
}

/** First line of a libvips/sharp message, without trailing noise. */
function cleanMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const line = msg.split('\n').map((s) => s.trim()).filter(Boolean)[0] ?? 'unknown error';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

/**
 * Decode any supported raster image and apply orientation, colour conversion to 8-bit sRGB,
 * alpha flattening and resize-cover/center-crop. Never throws for bad input.
 */
export async function decodeToRgb(bytes: Uint8Array, prep: Preprocessing, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Promise<DecodeRgbResult> {
  if (bytes.length === 0) return { ok: false, reason: 'empty file (0 bytes)' };
  if (bytes.length > limits.maxFileBytes) return { ok: false, reason: fileTooLargeReason(bytes.length, limits.maxFileBytes) };

  const sniffed = sniffFormat(bytes);
  if (sniffed.kind === 'unknown') return { ok: false, reason: 'not an image (unrecognized format)' };
  if (sniffed.kind === 'refused') {
    // Vector and document formats (SVG, PDF, PostScript) are refused on purpose: they are not
    // photos, and their renderers (librsvg, poppler) are a large attack surface for untrusted files.
    // HEIC has no decoder in sharp's prebuilt libvips (HEVC patents): say what to do.
    const hint = sniffed.format === 'heic' ? ' (no HEIC decoder: save the photo as JPEG)' : '';
    return { ok: false, reason: `unsupported format: ${sniffed.format}${hint}` };
  }
  const format: RasterFormat = sniffed.format;

  let image: Sharp;
  let size: { width: number | undefined; height: number | undefined } = { width: undefined, height: undefined };
  if (format === 'bmp') {
    let bmp: ReturnType<typeof decodeBmp>;
    try {
      bmp = decodeBmp(bytes, limits.maxInputPixels);
    } catch (e) {
      return { ok: false, reason: `truncated or corrupt BMP: ${cleanMessage(e)}` };
    }
    if (!bmp.ok) {
      if (bmp.tooLarge) return { ok: false, reason: tooLargeReason(bmp.tooLarge.width, bmp.tooLarge.height, limits.maxInputPixels) };
      return { ok: false, reason: bmp.reason };
    }
    image = sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: bmp.channels } });
    size = { width: bmp.width, height: bmp.height };
  } else {
    image = sharp(bytes, {
      // Reject truncated data (a half-copied photo must not be learned as a grey-bottomed image),
      // but accept the harmless warnings many cameras produce (e.g. extraneous bytes before a marker).
      failOn: 'truncated',
      limitInputPixels: limits.maxInputPixels,
      sequentialRead: true,
    }).rotate(); // EXIF orientation
  }

  try {
    if (format !== 'bmp') {
      const meta = await image.metadata(); // header only; orientation does not change the shorter side
      size = { width: meta.width, height: meta.height };
    }
    const { data, info } = await image
      .resize(prep.width, prep.height, { fit: 'cover', position: 'centre', kernel: resizeKernel(size.width, size.height, prep) })
      .flatten({ background: FLATTEN_BACKGROUND })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.width !== prep.width || info.height !== prep.height || info.channels !== 3 || data.length !== prep.width * prep.height * 3) {
      return { ok: false, reason: `could not convert ${FORMAT_LABEL[format]} to RGB (got ${info.width}×${info.height}×${info.channels})` };
    }
    return { ok: true, rgb: data };
  } catch (e) {
    const msg = cleanMessage(e);
    if (/exceeds pixel limit/i.test(msg)) {
      try {
        const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
        if (meta.width && meta.height) return { ok: false, reason: tooLargeReason(meta.width, meta.height, limits.maxInputPixels) };
      } catch { /* fall through */ }
      return { ok: false, reason: `image too large: exceeds the ${formatMegapixels(limits.maxInputPixels)} MP limit` };
    }
    // libvips keeps its error text in a buffer that concurrent decodes share, so the detail
    // (e.g. "premature end of JPEG image") can come back as "Unknown error" under load: the
    // reason must not depend on it, or the same file would be judged differently run to run.
    return { ok: false, reason: `truncated or corrupt ${FORMAT_LABEL[format]}` };
  }
}

/** Per-channel lookup tables (uint8 → normalized float), cached per (mean, std). */
const lutCache = new Map<string, Float32Array>();
function normalizationLut(prep: Preprocessing): Float32Array {
  const key = `${prep.mean.join(',')}/${prep.std.join(',')}`;
  let lut = lutCache.get(key);
  if (!lut) {
    lut = new Float32Array(3 * 256);
    for (let c = 0; c < 3; c++) {
      const m = prep.mean[c]!, s = prep.std[c]!;
      for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v - m) / s;
    }
    if (lutCache.size > 16) lutCache.clear();
    lutCache.set(key, lut);
  }
  return lut;
}

/** HWC uint8 RGB → normalized CHW float, written at `out[offset ...]` (3×H×W values). */
export function rgbToChw(rgb: Uint8Array, prep: Preprocessing, out: Float32Array, offset = 0): void {
  const plane = prep.width * prep.height;
  if (rgb.length < plane * 3) throw new RangeError(`rgbToChw: expected ${plane * 3} bytes, got ${rgb.length}`);
  if (out.length < offset + plane * 3) throw new RangeError('rgbToChw: output too small');
  const lut = normalizationLut(prep);
  const r0 = offset, g0 = offset + plane, b0 = offset + 2 * plane;
  for (let i = 0, j = 0; i < plane; i++, j += 3) {
    out[r0 + i] = lut[rgb[j]!]!;
    out[g0 + i] = lut[256 + rgb[j + 1]!]!;
    out[b0 + i] = lut[512 + rgb[j + 2]!]!;
  }
}

/**
 * Decode and preprocess one image file's bytes into a 3×H×W CHW float tensor.
 * Never throws for bad input: every failure is `{ ok: false, reason }`.
 */
export async function preprocessImage(bytes: Uint8Array, prep: Preprocessing, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Promise<PreprocessResult> {
  const decoded = await decodeToRgb(bytes, prep, limits);
  if (!decoded.ok) return decoded;
  const pixels = new Float32Array(3 * prep.width * prep.height);
  rgbToChw(decoded.rgb, prep, pixels, 0);
  return { ok: true, pixels };
}
