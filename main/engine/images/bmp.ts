/**
 * A small, bounded BMP decoder (libvips in sharp cannot read BMP).
 *
 * Supported: BITMAPINFOHEADER and later headers (40, 52, 56, 108, 124 bytes); 1/4/8-bit palette
 * (BI_RGB), 16-bit (BI_RGB 5-5-5 or BI_BITFIELDS), 24-bit BI_RGB, 32-bit BI_RGB (4th byte ignored,
 * as the format says) and BI_BITFIELDS / BI_ALPHABITFIELDS (alpha honoured when a mask says so);
 * bottom-up and top-down rows.
 * Refused with a reason: OS/2 core headers, RLE4/RLE8, embedded JPEG/PNG, CMYK variants, 64-bit.
 *
 * Work is bounded: dimensions are checked against the pixel limit and against the bytes actually
 * present before anything is allocated; the output is width × height × (3 | 4) bytes.
 */

export type BmpDecodeResult =
  | { ok: true; width: number; height: number; channels: 3 | 4; data: Buffer }
  | { ok: false; reason: string; tooLarge?: { width: number; height: number } };

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_JPEG = 4;
const BI_PNG = 5;
const BI_ALPHABITFIELDS = 6;

const COMPRESSION_NAMES: Record<number, string> = {
  [BI_RLE8]: 'RLE8 compression', [BI_RLE4]: 'RLE4 compression', [BI_JPEG]: 'embedded JPEG',
  [BI_PNG]: 'embedded PNG', 11: 'CMYK', 12: 'CMYK RLE8', 13: 'CMYK RLE4',
};

interface Channel { mask: number; shift: number; lut: Uint8Array | null /* null: 8 bits exactly */ }

function channelOf(mask: number): Channel {
  mask >>>= 0;
  if (mask === 0) return { mask: 0, shift: 0, lut: new Uint8Array(1) };
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (shift + bits < 32 && ((mask >>> (shift + bits)) & 1) === 1) bits++;
  // Non-contiguous masks are not valid; use the lowest contiguous run of bits.
  const contiguous = (((2 ** bits - 1) * 2 ** shift) >>> 0) & mask;
  if (bits === 8) return { mask: contiguous, shift, lut: null };
  if (bits > 8) {
    // Keep the top 8 bits of the field.
    return { mask: contiguous, shift: shift + bits - 8, lut: null };
  }
  const max = 2 ** bits - 1;
  const lut = new Uint8Array(max + 1);
  for (let v = 0; v <= max; v++) lut[v] = Math.round((v * 255) / max);
  return { mask: contiguous, shift, lut };
}

function extract(px: number, ch: Channel): number {
  const v = ((px & ch.mask) >>> ch.shift) & (ch.lut ? 0xffffffff : 0xff);
  return ch.lut ? ch.lut[v]! : v;
}

export function decodeBmp(bytes: Uint8Array, maxInputPixels: number): BmpDecodeResult {
  const len = bytes.length;
  if (len < 14 + 4) return { ok: false, reason: 'truncated BMP: file header is incomplete' };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = dv.getUint32(10, true);
  const headerSize = dv.getUint32(14, true);
  if (headerSize === 12) return { ok: false, reason: 'unsupported BMP variant: OS/2 1.x core header' };
  if (headerSize === 16 || headerSize === 64) return { ok: false, reason: 'unsupported BMP variant: OS/2 2.x header' };
  if (headerSize !== 40 && headerSize !== 52 && headerSize !== 56 && headerSize !== 108 && headerSize !== 124) {
    return { ok: false, reason: `corrupt BMP: unknown header size ${headerSize}` };
  }
  if (len < 14 + headerSize) return { ok: false, reason: 'truncated BMP: header is incomplete' };

  const width = dv.getInt32(18, true);
  const rawHeight = dv.getInt32(22, true);
  const planes = dv.getUint16(26, true);
  const bpp = dv.getUint16(28, true);
  const compression = dv.getUint32(30, true);
  const clrUsed = dv.getUint32(46, true);

  if (planes !== 1) return { ok: false, reason: `corrupt BMP: ${planes} planes` };
  const compName = COMPRESSION_NAMES[compression];
  if (compName) return { ok: false, reason: `unsupported BMP variant: ${compName}` };
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    return { ok: false, reason: `unsupported BMP variant: compression type ${compression}` };
  }
  if (![1, 4, 8, 16, 24, 32].includes(bpp)) return { ok: false, reason: `unsupported BMP variant: ${bpp} bits per pixel` };
  if ((compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) && bpp !== 16 && bpp !== 32) {
    return { ok: false, reason: `corrupt BMP: bit fields with ${bpp} bits per pixel` };
  }
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (width <= 0 || height <= 0 || rawHeight === -2147483648) {
    return { ok: false, reason: `corrupt BMP: invalid dimensions ${width}×${rawHeight}` };
  }
  if (width * height > maxInputPixels) {
    return { ok: false, reason: 'image too large', tooLarge: { width, height } };
  }

  // Colour masks.
  let rMask = 0, gMask = 0, bMask = 0, aMask = 0;
  let afterHeader = 14 + headerSize;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    const nMasks = compression === BI_ALPHABITFIELDS ? 4 : 3;
    let at = 54;
    if (headerSize === 40) {
      at = afterHeader;
      afterHeader += nMasks * 4;
    }
    if (len < at + nMasks * 4) return { ok: false, reason: 'truncated BMP: colour masks are missing' };
    rMask = dv.getUint32(at, true);
    gMask = dv.getUint32(at + 4, true);
    bMask = dv.getUint32(at + 8, true);
    if (nMasks === 4 || headerSize >= 56) aMask = dv.getUint32(at + 12, true);
  } else if (bpp === 16) {
    rMask = 0x7c00; gMask = 0x03e0; bMask = 0x001f;
  } else if (bpp === 32) {
    rMask = 0x00ff0000; gMask = 0x0000ff00; bMask = 0x000000ff; // 4th byte unused in BI_RGB
  }

  // Palette.
  let palette: Uint8Array | null = null;
  if (bpp <= 8) {
    const maxColors = 1 << bpp;
    let n = clrUsed === 0 || clrUsed > maxColors ? maxColors : clrUsed;
    const available = Math.floor((Math.min(dataOffset, len) - afterHeader) / 4);
    if (available <= 0) return { ok: false, reason: 'corrupt BMP: colour palette is missing' };
    n = Math.min(n, available);
    palette = new Uint8Array(maxColors * 3); // indices past the palette read as black
    for (let i = 0; i < n; i++) {
      const o = afterHeader + i * 4;
      palette[i * 3] = bytes[o + 2]!;
      palette[i * 3 + 1] = bytes[o + 1]!;
      palette[i * 3 + 2] = bytes[o]!;
    }
  }

  const rowStride = Math.floor((bpp * width + 31) / 32) * 4;
  const rowBytes = Math.ceil((bpp * width) / 8);
  if (dataOffset < 14 + headerSize || dataOffset > len) {
    return { ok: false, reason: 'corrupt BMP: pixel data offset is outside the file' };
  }
  // Tolerate missing padding after the last row, nothing else.
  if (dataOffset + rowStride * (height - 1) + rowBytes > len) {
    return { ok: false, reason: 'truncated BMP: pixel data is shorter than the header declares' };
  }

  const hasAlphaMask = aMask !== 0;
  const channels: 3 | 4 = hasAlphaMask ? 4 : 3;
  const out = Buffer.allocUnsafe(width * height * channels);
  let anyAlpha = false;

  const rC = channelOf(rMask), gC = channelOf(gMask), bC = channelOf(bMask), aC = channelOf(aMask);
  const standard32 = bpp === 32 && !hasAlphaMask && rMask === 0xff0000 && gMask === 0xff00 && bMask === 0xff;
  const standard32a = bpp === 32 && hasAlphaMask && rMask === 0xff0000 && gMask === 0xff00 && bMask === 0xff && aMask >>> 0 === 0xff000000;

  for (let y = 0; y < height; y++) {
    const srcRow = dataOffset + (topDown ? y : height - 1 - y) * rowStride;
    let o = y * width * channels;
    if (bpp === 24 || standard32) {
      const step = bpp === 24 ? 3 : 4;
      for (let x = 0, s = srcRow; x < width; x++, s += step, o += 3) {
        out[o] = bytes[s + 2]!;
        out[o + 1] = bytes[s + 1]!;
        out[o + 2] = bytes[s]!;
      }
    } else if (standard32a) {
      for (let x = 0, s = srcRow; x < width; x++, s += 4, o += 4) {
        out[o] = bytes[s + 2]!;
        out[o + 1] = bytes[s + 1]!;
        out[o + 2] = bytes[s]!;
        const a = bytes[s + 3]!;
        out[o + 3] = a;
        if (a !== 0) anyAlpha = true;
      }
    } else if (bpp === 32 || bpp === 16) {
      for (let x = 0; x < width; x++, o += channels) {
        const px = bpp === 32 ? dv.getUint32(srcRow + x * 4, true) : dv.getUint16(srcRow + x * 2, true);
        out[o] = extract(px, rC);
        out[o + 1] = extract(px, gC);
        out[o + 2] = extract(px, bC);
        if (channels === 4) {
          const a = extract(px, aC);
          out[o + 3] = a;
          if (a !== 0) anyAlpha = true;
        }
      }
    } else {
      const pal = palette!;
      const perByte = 8 / bpp;
      const mask = (1 << bpp) - 1;
      for (let x = 0; x < width; x++, o += 3) {
        const byte = bytes[srcRow + Math.floor(x / perByte)]!;
        const shift = 8 - bpp * ((x % perByte) + 1);
        const idx = (byte >> shift) & mask;
        out[o] = pal[idx * 3]!;
        out[o + 1] = pal[idx * 3 + 1]!;
        out[o + 2] = pal[idx * 3 + 2]!;
      }
    }
  }

  if (channels === 4 && !anyAlpha) {
    // An alpha mask whose values are all zero means "no alpha" in practice (as browsers treat it).
    const rgb = Buffer.allocUnsafe(width * height * 3);
    for (let i = 0, j = 0; i < out.length; i += 4, j += 3) {
      rgb[j] = out[i]!;
      rgb[j + 1] = out[i + 1]!;
      rgb[j + 2] = out[i + 2]!;
    }
    return { ok: true, width, height, channels: 3, data: rgb };
  }
  return { ok: true, width, height, channels, data: out };
}
