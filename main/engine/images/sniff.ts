/**
 * Image format detection from magic bytes. The file extension is never trusted: a PNG named
 * `.jpg` is decoded as PNG, and a text file named `.jpg` is "not an image".
 */

/** Raster photo formats we decode. */
export type RasterFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'avif' | 'bmp';

/** Formats we recognize but refuse (vector/document formats, or no decoder in this build). */
export type RefusedFormat =
  | 'svg' | 'pdf' | 'postscript' | 'heic' | 'jxl' | 'jp2' | 'psd' | 'ico' | 'ppm' | 'video';

export type SniffResult =
  | { kind: 'raster'; format: RasterFormat }
  | { kind: 'refused'; format: RefusedFormat }
  | { kind: 'unknown' };

export const FORMAT_LABEL: Record<RasterFormat, string> = {
  jpeg: 'JPEG', png: 'PNG', gif: 'GIF', webp: 'WebP', tiff: 'TIFF', avif: 'AVIF', bmp: 'BMP',
};

function ascii(b: Uint8Array, start: number, len: number): string {
  let s = '';
  const end = Math.min(b.length, start + len);
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_GENERIC = new Set(['mif1', 'msf1', 'mif2', 'miaf']);

function sniffIsoBmff(b: Uint8Array): SniffResult | undefined {
  if (b.length < 12 || ascii(b, 4, 4) !== 'ftyp') return undefined;
  const boxSize = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const major = ascii(b, 8, 4);
  const brands = [major];
  const end = Math.min(b.length, boxSize >= 16 && boxSize <= 4096 ? boxSize : 16);
  for (let o = 16; o + 4 <= end; o += 4) brands.push(ascii(b, o, 4));
  if (brands.some((x) => AVIF_BRANDS.has(x))) return { kind: 'raster', format: 'avif' };
  if (brands.some((x) => HEIC_BRANDS.has(x) || HEIF_GENERIC.has(x))) return { kind: 'refused', format: 'heic' };
  if (major === 'jxl ') return { kind: 'refused', format: 'jxl' };
  return { kind: 'refused', format: 'video' };
}

function looksLikeSvg(b: Uint8Array): boolean {
  // Skip a UTF-8 BOM and leading whitespace, then look for markup that contains an <svg element early on.
  let i = 0;
  if (startsWith(b, [0xef, 0xbb, 0xbf])) i = 3;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  if (b[i] !== 0x3c /* < */) return false;
  const head = ascii(b, i, 4096).toLowerCase();
  return head.includes('<svg');
}

export function sniffFormat(b: Uint8Array): SniffResult {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { kind: 'raster', format: 'jpeg' };
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'raster', format: 'png' };
  const h6 = ascii(b, 0, 6);
  if (h6 === 'GIF87a' || h6 === 'GIF89a') return { kind: 'raster', format: 'gif' };
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return { kind: 'raster', format: 'webp' };
  if (startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]) ||
      startsWith(b, [0x49, 0x49, 0x2b, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2b])) {
    return { kind: 'raster', format: 'tiff' };
  }
  if (b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d) return { kind: 'raster', format: 'bmp' };
  const iso = sniffIsoBmff(b);
  if (iso) return iso;
  if (ascii(b, 0, 5) === '%PDF-') return { kind: 'refused', format: 'pdf' };
  if (ascii(b, 0, 4) === '%!PS' || startsWith(b, [0xc5, 0xd0, 0xd3, 0xc6])) return { kind: 'refused', format: 'postscript' };
  if (ascii(b, 0, 4) === '8BPS') return { kind: 'refused', format: 'psd' };
  if (startsWith(b, [0xff, 0x0a]) || startsWith(b, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a])) {
    return { kind: 'refused', format: 'jxl' };
  }
  if (startsWith(b, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]) || startsWith(b, [0xff, 0x4f, 0xff, 0x51])) {
    return { kind: 'refused', format: 'jp2' };
  }
  if (startsWith(b, [0, 0, 1, 0]) && b.length >= 6 && (b[4]! | b[5]!) !== 0) return { kind: 'refused', format: 'ico' };
  if (b.length >= 3 && b[0] === 0x50 && b[1]! >= 0x31 && b[1]! <= 0x37 && (b[2] === 0x0a || b[2] === 0x20 || b[2] === 0x0d)) {
    return { kind: 'refused', format: 'ppm' };
  }
  if (looksLikeSvg(b)) return { kind: 'refused', format: 'svg' };
  return { kind: 'unknown' };
}
