import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeBmp, preprocessImage, sniffFormat, type Preprocessing } from '../main/engine/images/index.js';
import {
  cmykJpeg, decodeRaw, encodeBmp, exifRotatedJpeg, fewColourImage, grayscaleJpeg, grayscalePng, palettePng, png16, png8,
  pngBomb, rawToPng, rgbaPng, rotateRaw90cw, SVG_TEXT, syntheticImage, truncated, type RawImage,
} from './support/fixtures.js';
import { CALTECH_DIR, CORAL_DIR } from './support/paths.js';

const PREP: Preprocessing = { width: 224, height: 224, mean: [128, 128, 128], std: [128, 128, 128] };
const PLANE = 224 * 224;
const PHOTO = path.join(CALTECH_DIR, 'train', 'Faces', 'image_0030.jpg'); // 256×169 JPEG

async function ok(bytes: Uint8Array, prep: Preprocessing = PREP): Promise<Float32Array> {
  const r = await preprocessImage(bytes, prep);
  if (!r.ok) throw new Error(`expected success, got: ${r.reason}`);
  expect(r.pixels.length).toBe(3 * prep.width * prep.height);
  return r.pixels;
}
async function fails(bytes: Uint8Array, prep: Preprocessing = PREP): Promise<string> {
  const r = await preprocessImage(bytes, prep);
  if (r.ok) throw new Error('expected a failure');
  return r.reason;
}
function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}
function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('preprocessImage: layout and normalization', () => {
  it('matches sharp cover-resize + (x-128)/128 in CHW order: bicubic when enlarging, bilinear when shrinking', async () => {
    const small = await readFile(PHOTO); // 256×169: the shorter side is enlarged to 224
    const large = await sharp(small).resize(768).png().toBuffer(); // 768×507: shrunk
    for (const [bytes, kernel] of [[small, 'cubic'], [large, 'linear']] as const) {
      const pixels = await ok(bytes);
      const { data } = await sharp(bytes).resize(224, 224, { fit: 'cover', kernel }).raw().toBuffer({ resolveWithObject: true });
      for (const i of [0, 1, 1000, 30_000, PLANE - 1]) {
        for (let c = 0; c < 3; c++) expect(pixels[c * PLANE + i]).toBeCloseTo((data[i * 3 + c]! - 128) / 128, 6);
      }
      expect(Math.min(...pixels.subarray(0, 5000))).toBeGreaterThanOrEqual(-1);
      expect(Math.max(...pixels.subarray(0, 5000))).toBeLessThanOrEqual(127 / 128);
    }
  });

  it('uses per-channel mean and std', async () => {
    const bytes = await rawToPng({ width: 4, height: 4, channels: 3, data: new Uint8Array(48).fill(100) });
    const prep: Preprocessing = { width: 2, height: 2, mean: [10, 20, 30], std: [2, 4, 5] };
    const pixels = await ok(bytes, prep);
    expect([...pixels]).toEqual([45, 45, 45, 45, 20, 20, 20, 20, 14, 14, 14, 14]);
  });

  it('resizes the shorter side and crops the center (wide and tall images)', async () => {
    // A 300×100 image whose red channel encodes the column; cover to 100×100 keeps columns 100..199.
    const w = 300, h = 100;
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(y * w + x) * 3] = x < 100 ? 0 : x < 200 ? 128 : 255;
    const prep: Preprocessing = { width: 100, height: 100, mean: [0, 0, 0], std: [1, 1, 1] };
    const wide = await ok(await rawToPng({ width: w, height: h, channels: 3, data }), prep);
    // Away from the seams (resampling kernel), every pixel comes from the middle third.
    for (let y = 0; y < 100; y += 7) for (let x = 4; x < 96; x += 3) expect(Math.abs(wide[y * 100 + x]! - 128)).toBeLessThanOrEqual(2);
    // Tall: transpose.
    const tall = new Uint8Array(w * h * 3);
    for (let y = 0; y < w; y++) for (let x = 0; x < h; x++) tall[(y * h + x) * 3] = y < 100 ? 0 : y < 200 ? 128 : 255;
    const tallPx = await ok(await rawToPng({ width: h, height: w, channels: 3, data: tall }), prep);
    for (let y = 4; y < 96; y += 3) for (let x = 0; x < 100; x += 7) expect(Math.abs(tallPx[y * 100 + x]! - 128)).toBeLessThanOrEqual(2);
  });

  it('crop is symmetric: a left/right mirrored input gives a mirrored output', async () => {
    const img = syntheticImage(331, 200);
    const mirrored = new Uint8Array(img.data.length);
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        for (let c = 0; c < 3; c++) mirrored[(y * img.width + (img.width - 1 - x)) * 3 + c] = img.data[(y * img.width + x) * 3 + c]!;
      }
    }
    const prep: Preprocessing = { width: 64, height: 64, mean: [0, 0, 0], std: [1, 1, 1] };
    const a = await ok(await rawToPng(img), prep);
    const b = await ok(await rawToPng({ ...img, data: mirrored }), prep);
    let worst = 0;
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) worst = Math.max(worst, Math.abs(a[y * 64 + x]! - b[y * 64 + 63 - x]!));
    expect(worst).toBeLessThanOrEqual(3);
  });
});

describe('preprocessImage: odd but valid inputs', () => {
  it('grayscale JPEG and PNG become three equal channels', async () => {
    const src = await readFile(PHOTO);
    for (const bytes of [await grayscaleJpeg(src), await grayscalePng(src)]) {
      const px = await ok(bytes);
      for (const i of [0, 777, 20_000, PLANE - 1]) {
        expect(px[i]).toBe(px[PLANE + i]);
        expect(px[i]).toBe(px[2 * PLANE + i]);
      }
    }
  });

  it('RGBA PNG is flattened onto white', async () => {
    const src = await readFile(PHOTO);
    const px = await ok(await rgbaPng(src));
    const white = (255 - 128) / 128;
    // The right half was fully transparent: white after flattening (allow the seam).
    for (let y = 0; y < 224; y += 5) for (let x = 130; x < 224; x += 5) for (let c = 0; c < 3; c++) expect(px[c * PLANE + y * 224 + x]).toBeCloseTo(white, 5);
    // The left half is the photo, not white.
    const photo = await ok(src);
    let d = 0;
    for (let y = 0; y < 224; y++) for (let x = 0; x < 90; x++) d = Math.max(d, Math.abs(px[y * 224 + x]! - photo[y * 224 + x]!));
    expect(d).toBeLessThan(0.05);
  });

  it('16-bit PNG matches the 8-bit PNG of the same photo', async () => {
    const src = await readFile(PHOTO);
    const a = await ok(await png16(src));
    const b = await ok(await png8(src));
    expect(maxAbsDiff(a, b)).toBeLessThanOrEqual(2 / 128 + 1e-6);
  });

  it('palette PNG decodes (close to the photo)', async () => {
    const src = await readFile(PHOTO);
    expect(meanAbsDiff(await ok(await palettePng(src)), await ok(await png8(src)))).toBeLessThan(0.08);
  });

  it('CMYK JPEG is converted to sRGB (close to the RGB original)', async () => {
    const src = await readFile(PHOTO);
    const cmyk = await cmykJpeg(src);
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    expect(meanAbsDiff(await ok(cmyk), await ok(src))).toBeLessThan(0.08); // < ~10 levels on average
  });

  it('applies EXIF orientation (same as rotating the stored pixels by hand)', async () => {
    const photo = await readFile(PHOTO);
    // 336×224 needs no resampling after rotation (exact match); 448×300 is downscaled.
    for (const [w, h, tolerance] of [[336, 224, 0], [448, 300, 0.005]] as const) {
      const src = await sharp(photo).resize(w, h, { fit: 'fill' }).jpeg({ quality: 95 }).toBuffer();
      const oriented = await exifRotatedJpeg(src);
      expect((await sharp(oriented).metadata()).orientation).toBe(6);
      const stored = await decodeRaw(oriented); // un-rotated pixels as stored
      const byHand = await rawToPng(rotateRaw90cw(stored));
      const a = await ok(oriented);
      expect(meanAbsDiff(a, await ok(byHand))).toBeLessThanOrEqual(tolerance);
      const other = await rawToPng(rotateRaw90cw(rotateRaw90cw(rotateRaw90cw(stored)))); // counter-clockwise
      expect(meanAbsDiff(a, await ok(other))).toBeGreaterThan(0.1);
    }
  });

  it('detects the format from content, not the name: WebP, GIF, TIFF, AVIF decode', async () => {
    const src = await readFile(PHOTO);
    const ref = await ok(src);
    for (const enc of [
      sharp(src).webp({ quality: 95 }), sharp(src).gif(), sharp(src).tiff(), sharp(src).avif({ quality: 80 }),
    ]) {
      const px = await ok(await enc.toBuffer());
      expect(meanAbsDiff(px, ref)).toBeLessThan(0.1);
    }
  });
});

describe('preprocessImage: bad inputs give a short, specific reason', () => {
  it('empty file', async () => {
    expect(await fails(new Uint8Array(0))).toBe('empty file (0 bytes)');
  });
  it('text, random bytes', async () => {
    expect(await fails(Buffer.from('this is not a photo\n'))).toBe('not an image (unrecognized format)');
    expect(await fails(Buffer.from([1, 2, 3]))).toBe('not an image (unrecognized format)');
  });
  it('truncated JPEG and PNG', async () => {
    const src = await readFile(PHOTO);
    expect(await fails(truncated(src))).toBe('truncated or corrupt JPEG');
    expect(await fails(truncated(await png8(src)))).toBe('truncated or corrupt PNG');
    expect(await fails(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]))).toBe('truncated or corrupt JPEG');
  });
  it('decompression bomb (PNG header declaring 50000×50000)', async () => {
    const bomb = pngBomb(50_000, 50_000);
    expect(bomb.length).toBeLessThan(2_000_000);
    // The reason names the header's size: refused before any pixel was decoded.
    expect(await fails(bomb)).toBe('image too large: 50000×50000 px exceeds the 100 MP limit');
    // The limit is the caller's: a stricter one applies to ordinary photos too.
    const r = await preprocessImage(await readFile(PHOTO), PREP, { maxInputPixels: 10_000, maxFileBytes: 1 << 30 });
    expect(r).toEqual({ ok: false, reason: 'image too large: 256×169 px exceeds the 0.01 MP limit' });
  });
  it('file too large', async () => {
    const r = await preprocessImage(await readFile(PHOTO), PREP, { maxInputPixels: 100e6, maxFileBytes: 1024 });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^file too large: .* exceeds the 1\.0 KiB limit$/);
  });
  it('refuses SVG, PDF, HEIC and other non-photo formats', async () => {
    expect(await fails(Buffer.from(SVG_TEXT))).toBe('unsupported format: svg');
    expect(await fails(Buffer.from('\uFEFF  <svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe('unsupported format: svg');
    expect(await fails(Buffer.from('%PDF-1.7\n%âãÏÓ\n'))).toBe('unsupported format: pdf');
    const heic = Buffer.from([0, 0, 0, 0x18, ...Buffer.from('ftypheic'), 0, 0, 0, 0, ...Buffer.from('mif1heic')]);
    expect(await fails(heic)).toBe('unsupported format: heic (no HEIC decoder: save the photo as JPEG)');
    expect(await fails(Buffer.from('8BPS\x00\x01', 'latin1'))).toBe('unsupported format: psd');
    // An HTML page is not SVG and not an image.
    expect(await fails(Buffer.from('<!doctype html><html><body>hi</body></html>'))).toBe('not an image (unrecognized format)');
  });
  it('sniffs formats from magic bytes', () => {
    expect(sniffFormat(Buffer.from([0xff, 0xd8, 0xff, 0xdb]))).toEqual({ kind: 'raster', format: 'jpeg' });
    expect(sniffFormat(Buffer.from('GIF89a......'))).toEqual({ kind: 'raster', format: 'gif' });
    expect(sniffFormat(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toEqual({ kind: 'raster', format: 'webp' });
    expect(sniffFormat(Buffer.from('RIFF\0\0\0\0WAVEfmt '))).toEqual({ kind: 'unknown' });
    expect(sniffFormat(Buffer.from([0, 0, 0, 0x1c, ...Buffer.from('ftypavif'), 0, 0, 0, 0, ...Buffer.from('avifmif1miaf')]))).toEqual({ kind: 'raster', format: 'avif' });
    expect(sniffFormat(Buffer.from([0, 0, 0, 0x18, ...Buffer.from('ftypisom'), 0, 0, 0, 0, ...Buffer.from('isomavc1')]))).toEqual({ kind: 'refused', format: 'video' });
  });
});

describe('BMP decoder', () => {
  const img = syntheticImage(37, 23); // odd width: row padding
  const exact = (raw: RawImage, decoded: { width: number; height: number; channels: number; data: Uint8Array }) => {
    expect([decoded.width, decoded.height, decoded.channels]).toEqual([raw.width, raw.height, 3]);
    expect(Buffer.from(decoded.data).equals(Buffer.from(raw.data))).toBe(true);
  };

  it('24-bit bottom-up and top-down, 32-bit BI_RGB (V4/V5 headers)', () => {
    for (const opts of [
      { bpp: 24 as const }, { bpp: 24 as const, topDown: true }, { bpp: 32 as const },
      { bpp: 32 as const, header: 108 as const, topDown: true }, { bpp: 24 as const, header: 124 as const },
    ]) {
      const r = decodeBmp(encodeBmp(img, opts), 100e6);
      if (!r.ok) throw new Error(r.reason);
      exact(img, r);
    }
  });

  it('32-bit BI_BITFIELDS (V3 masks after a 40-byte header, and in a V5 header)', () => {
    for (const header of [40, 124] as const) {
      const r = decodeBmp(encodeBmp(img, { bpp: 32, compression: 'bitfields', header }), 100e6);
      if (!r.ok) throw new Error(r.reason);
      exact(img, r);
    }
  });

  it('32-bit BI_BITFIELDS with alpha keeps alpha (flattened on white by preprocess)', async () => {
    const rgba = syntheticImage(40, 20, 4);
    const bmp = encodeBmp(rgba, { bpp: 32, compression: 'bitfields', header: 124, alpha: true });
    const r = decodeBmp(bmp, 100e6);
    if (!r.ok) throw new Error(r.reason);
    expect(r.channels).toBe(4);
    expect(Buffer.from(r.data).equals(Buffer.from(rgba.data))).toBe(true);
    const px = await ok(bmp, { width: 20, height: 20, mean: [0, 0, 0], std: [1, 1, 1] });
    expect(px[19 * 20 + 19]).toBe(255); // transparent right half → white
  });

  it('16-bit 5-6-5 and 5-5-5', () => {
    for (const layout16 of ['rgb565', 'rgb555'] as const) {
      const bmp = encodeBmp(img, { bpp: 16, compression: layout16 === 'rgb565' ? 'bitfields' : 'rgb', layout16 });
      const r = decodeBmp(bmp, 100e6);
      if (!r.ok) throw new Error(r.reason);
      let worst = 0;
      for (let i = 0; i < img.data.length; i++) worst = Math.max(worst, Math.abs(r.data[i]! - img.data[i]!));
      expect(worst).toBeLessThanOrEqual(8);
    }
  });

  it('8-, 4- and 1-bit palettes', () => {
    for (const [bpp, colours] of [[8, 200], [4, 16], [1, 2]] as const) {
      const few = fewColourImage(13, 9, colours);
      for (const topDown of [false, true]) {
        const r = decodeBmp(encodeBmp(few, { bpp, topDown }), 100e6);
        if (!r.ok) throw new Error(r.reason);
        exact(few, r);
      }
    }
  });

  it('decodes the Coral test BMPs (V5 header, 24-bit, bottom-up) upright', async () => {
    const bytes = await readFile(path.join(CORAL_DIR, 'img', 'grace_hopper.bmp'));
    const r = decodeBmp(bytes, 100e6);
    if (!r.ok) throw new Error(r.reason);
    expect([r.width, r.height, r.channels]).toEqual([512, 600, 3]);
    // The photo's top rows are the (dark) background, the bottom rows her (dark) uniform; the
    // middle holds her face. A sanity check that rows are not flipped: compare to a PNG round trip.
    const viaPng = await ok(await rawToPng({ width: r.width, height: r.height, channels: 3, data: r.data }));
    expect(maxAbsDiff(await ok(bytes), viaPng)).toBe(0);
  });

  it('refuses other variants with a clear reason', () => {
    const rle = encodeBmp(fewColourImage(8, 8, 4), { bpp: 8, compression: 'rle8' });
    expect(decodeBmp(rle, 100e6)).toEqual({ ok: false, reason: 'unsupported BMP variant: RLE8 compression' });
    const core = Buffer.alloc(26 + 64);
    core.write('BM', 0, 'ascii');
    core.writeUInt32LE(26, 10);
    core.writeUInt32LE(12, 14);
    expect(decodeBmp(core, 100e6)).toEqual({ ok: false, reason: 'unsupported BMP variant: OS/2 1.x core header' });
    const full = encodeBmp(img, { bpp: 24 });
    const r = decodeBmp(full.subarray(0, full.length - 200), 100e6);
    expect(r).toEqual({ ok: false, reason: 'truncated BMP: pixel data is shorter than the header declares' });
  });

  it('checks the pixel limit before allocating (BMP bomb)', async () => {
    const bomb = encodeBmp(syntheticImage(4, 4), { bpp: 24 });
    bomb.writeInt32LE(50_000, 18);
    bomb.writeInt32LE(50_000, 22);
    expect(await fails(bomb)).toBe('image too large: 50000×50000 px exceeds the 100 MP limit');
    bomb.writeInt32LE(5_000, 18);
    bomb.writeInt32LE(5_000, 22);
    expect(await fails(bomb)).toBe('truncated BMP: pixel data is shorter than the header declares');
  });
});

describe('robustness', () => {
  it('never throws on mutated inputs (deterministic fuzz of BMP, PNG, JPEG, GIF headers and bodies)', async () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const src = await readFile(PHOTO);
    const small = await sharp(src).resize(40, 30).toBuffer();
    const bases = [
      encodeBmp(syntheticImage(9, 7), { bpp: 24 }),
      encodeBmp(fewColourImage(9, 7, 16), { bpp: 4 }),
      encodeBmp(syntheticImage(9, 7, 4), { bpp: 32, compression: 'bitfields', header: 124, alpha: true }),
      await sharp(small).png().toBuffer(),
      await sharp(small).jpeg().toBuffer(),
      await sharp(small).gif().toBuffer(),
    ];
    const prep: Preprocessing = { width: 16, height: 16, mean: [0, 0, 0], std: [1, 1, 1] };
    let failures = 0;
    for (let n = 0; n < 240; n++) {
      const base = bases[n % bases.length]!;
      const bytes = Buffer.from(base);
      const edits = 1 + Math.floor(rand() * 6);
      for (let e = 0; e < edits; e++) {
        // Bias edits towards headers, where sizes and offsets live.
        const at = rand() < 0.7 ? Math.floor(rand() * Math.min(bytes.length, 140)) : Math.floor(rand() * bytes.length);
        bytes[at] = Math.floor(rand() * 256);
      }
      const cut = rand() < 0.3 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes;
      const r = await preprocessImage(cut, prep);
      if (!r.ok) {
        failures++;
        expect(r.reason.length).toBeGreaterThan(5);
        expect(r.reason.length).toBeLessThan(260);
      } else {
        expect(r.pixels.length).toBe(3 * 16 * 16);
      }
    }
    expect(failures).toBeGreaterThan(0);
  });
});
