// Helpers that write bad and odd image files into temp dirs, for the decode, scan and embedding tests.
// Everything here produces real files with real encoders (sharp) or byte-exact hand-made headers.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import sharp from 'sharp';

export async function makeTempDir(prefix = 'keizoku-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function writeFileIn(dir: string, relPath: string, data: Uint8Array | string): Promise<string> {
  const file = path.join(dir, relPath);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, data);
  return file;
}

/** True where permission bits do not stop reads (root): unreadable-file checks must be skipped. */
export const RUNNING_AS_ROOT = process.getuid?.() === 0;

export interface RawImage {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array; // HWC, row-major, top row first
}

/** Decoded, un-oriented pixels of an encoded image (no EXIF rotation, alpha kept). */
export async function decodeRaw(bytes: Uint8Array): Promise<RawImage> {
  const { data, info } = await sharp(bytes).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 && info.channels !== 4) throw new Error(`unexpected channels ${info.channels}`);
  return { width: info.width, height: info.height, channels: info.channels, data };
}

export function rawToPng(img: RawImage): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } }).png().toBuffer();
}

/** A synthetic image with smooth gradients plus a few hard edges (deterministic). */
export function syntheticImage(width: number, height: number, channels: 3 | 4 = 3): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      data[o] = Math.round((x * 255) / Math.max(1, width - 1));
      data[o + 1] = Math.round((y * 255) / Math.max(1, height - 1));
      data[o + 2] = (x >> 3) % 2 === (y >> 3) % 2 ? 200 : 30;
      if (channels === 4) data[o + 3] = x < width / 2 ? 255 : 0;
    }
  }
  return { width, height, channels, data };
}

/** Rotates raw pixels 90° clockwise (what EXIF orientation 6 asks a viewer to do). */
export function rotateRaw90cw(img: RawImage): RawImage {
  const { width: w, height: h, channels: c } = img;
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // source (x, y) → destination (h - 1 - y, x) in a h-wide, w-high image
      const s = (y * w + x) * c;
      const d = (x * h + (h - 1 - y)) * c;
      for (let k = 0; k < c; k++) out[d + k] = img.data[s + k]!;
    }
  }
  return { width: h, height: w, channels: c, data: out };
}

// ---------------------------------------------------------------------------------------------
// Bad files

export function truncated(bytes: Uint8Array, fraction = 0.4): Uint8Array {
  return bytes.subarray(0, Math.floor(bytes.length * fraction));
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), Buffer.from(data)]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(typeAndData) >>> 0);
  return Buffer.concat([len, typeAndData, crc]);
}

/**
 * A valid-looking PNG whose IHDR declares a huge size (a decompression bomb): 8-bit RGB,
 * with a tiny IDAT. A decoder that trusts the header and allocates first would need
 * width × height × 3 bytes.
 */
export function pngBomb(width = 50_000, height = 50_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  // The first rows' worth of zeros compress to almost nothing.
  const idat = zlib.deflateSync(Buffer.alloc((width * 3 + 1) * 4));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

export const SVG_TEXT = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>\n';

// ---------------------------------------------------------------------------------------------
// Odd but valid files, re-encoded from a real photo.

export async function cmykJpeg(src: Uint8Array): Promise<Buffer> {
  return sharp(src).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
}
export async function png16(src: Uint8Array): Promise<Buffer> {
  return sharp(src).toColourspace('rgb16').png().toBuffer();
}
export async function png8(src: Uint8Array): Promise<Buffer> {
  return sharp(src).png().toBuffer();
}
export async function grayscaleJpeg(src: Uint8Array): Promise<Buffer> {
  return sharp(src).greyscale().jpeg({ quality: 95 }).toBuffer();
}
export async function grayscalePng(src: Uint8Array): Promise<Buffer> {
  return sharp(src).greyscale().png().toBuffer();
}
/** RGBA PNG: the left half opaque photo, the right half fully transparent (with non-white RGB underneath). */
export async function rgbaPng(src: Uint8Array): Promise<Buffer> {
  const { data, info } = await sharp(src).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let y = 0; y < info.height; y++) {
    for (let x = Math.floor(info.width / 2); x < info.width; x++) data[(y * info.width + x) * 4 + 3] = 0;
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toBuffer();
}
export async function palettePng(src: Uint8Array): Promise<Buffer> {
  return sharp(src).png({ palette: true, colours: 64 }).toBuffer();
}
/** The same pixels stored un-rotated, with EXIF Orientation = 6 (display rotated 90° clockwise). */
export async function exifRotatedJpeg(src: Uint8Array): Promise<Buffer> {
  return sharp(src).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
}

export async function readShared(file: string): Promise<Buffer> {
  return readFile(file);
}

// ---------------------------------------------------------------------------------------------
// BMP writer (test-only encoder, independent of the product decoder).

export interface BmpOptions {
  bpp: 1 | 4 | 8 | 16 | 24 | 32;
  topDown?: boolean;
  /** DIB header size: 40 (BITMAPINFOHEADER), 108 (V4) or 124 (V5). Default 40. */
  header?: 40 | 108 | 124;
  compression?: 'rgb' | 'bitfields' | 'rle8';
  /** For 32-bit bit fields: store the alpha channel with mask 0xff000000. */
  alpha?: boolean;
  /** For 16-bit bit fields: 'rgb565' (default) or 'rgb555'. */
  layout16?: 'rgb565' | 'rgb555';
}

/** Encodes raw pixels as a BMP. Palette formats need ≤ 2^bpp distinct colours. */
export function encodeBmp(img: RawImage, opts: BmpOptions): Buffer {
  const { width, height, channels, data } = img;
  const bpp = opts.bpp;
  const headerSize = opts.header ?? 40;
  const compression = opts.compression ?? 'rgb';
  const bitfields = compression === 'bitfields';
  const masksAfterHeader = bitfields && headerSize === 40 ? 12 : 0;

  let palette: number[][] = [];
  const indexOf = new Map<number, number>();
  if (bpp <= 8) {
    for (let i = 0; i < width * height; i++) {
      const o = i * channels;
      const key = (data[o]! << 16) | (data[o + 1]! << 8) | data[o + 2]!;
      if (!indexOf.has(key)) {
        indexOf.set(key, palette.length);
        palette.push([data[o]!, data[o + 1]!, data[o + 2]!]);
      }
    }
    if (palette.length > 1 << bpp) throw new Error(`too many colours (${palette.length}) for ${bpp}-bit BMP`);
  }
  const paletteBytes = palette.length * 4;
  const rowStride = Math.floor((bpp * width + 31) / 32) * 4;
  const dataOffset = 14 + headerSize + masksAfterHeader + paletteBytes;
  const imageSize = rowStride * height;
  const buf = Buffer.alloc(dataOffset + imageSize);

  buf.write('BM', 0, 'ascii');
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(dataOffset, 10);
  buf.writeUInt32LE(headerSize, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(opts.topDown ? -height : height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(bpp, 28);
  buf.writeUInt32LE(compression === 'rgb' ? 0 : compression === 'rle8' ? 1 : 3, 30);
  buf.writeUInt32LE(imageSize, 34);
  buf.writeInt32LE(2835, 38);
  buf.writeInt32LE(2835, 42);
  buf.writeUInt32LE(palette.length, 46);
  buf.writeUInt32LE(0, 50);

  let masks: [number, number, number, number] = [0, 0, 0, 0];
  if (bitfields) {
    if (bpp === 16) masks = opts.layout16 === 'rgb555' ? [0x7c00, 0x03e0, 0x001f, 0] : [0xf800, 0x07e0, 0x001f, 0];
    else masks = [0x00ff0000, 0x0000ff00, 0x000000ff, opts.alpha ? 0xff000000 : 0];
    const at = headerSize === 40 ? 54 : 54;
    buf.writeUInt32LE(masks[0], at);
    buf.writeUInt32LE(masks[1], at + 4);
    buf.writeUInt32LE(masks[2], at + 8);
    if (headerSize >= 56) buf.writeUInt32LE(masks[3] >>> 0, at + 12);
  }
  if (headerSize >= 108) buf.write('BGRs', 14 + 56, 'latin1'); // LCS_sRGB, little-endian 'sRGB'

  let p = 14 + headerSize + masksAfterHeader;
  for (const [r, g, b] of palette) {
    buf[p++] = b!; buf[p++] = g!; buf[p++] = r!; buf[p++] = 0;
  }

  for (let y = 0; y < height; y++) {
    const row = dataOffset + (opts.topDown ? y : height - 1 - y) * rowStride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      const r = data[o]!, g = data[o + 1]!, b = data[o + 2]!, a = channels === 4 ? data[o + 3]! : 255;
      if (bpp === 24) {
        buf[row + x * 3] = b; buf[row + x * 3 + 1] = g; buf[row + x * 3 + 2] = r;
      } else if (bpp === 32) {
        buf[row + x * 4] = b; buf[row + x * 4 + 1] = g; buf[row + x * 4 + 2] = r;
        buf[row + x * 4 + 3] = bitfields && opts.alpha ? a : 0;
      } else if (bpp === 16) {
        const v = bitfields && opts.layout16 !== 'rgb555'
          ? ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
          : ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
        buf.writeUInt16LE(v, row + x * 2);
      } else {
        const idx = indexOf.get((r << 16) | (g << 8) | b)!;
        const perByte = 8 / bpp;
        const byteAt = row + Math.floor(x / perByte);
        const shift = 8 - bpp * ((x % perByte) + 1);
        buf[byteAt] = buf[byteAt]! | (idx << shift);
      }
    }
  }
  return buf;
}

/** A small image with few colours (for palette BMPs). */
export function fewColourImage(width: number, height: number, colours: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = (x + 2 * y) % colours;
      const o = (y * width + x) * 3;
      data[o] = (k * 97) & 255; data[o + 1] = (k * 57 + 10) & 255; data[o + 2] = (k * 31 + 200) & 255;
    }
  }
  return { width, height, channels: 3, data };
}
