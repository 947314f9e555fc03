// Test-only BMP reader for the Coral sample images (sharp cannot decode BMP). Handles the common
// uncompressed case only: BI_RGB (or BI_BITFIELDS with the standard masks) at 24 or 32 bits,
// bottom-up or top-down rows, rows padded to 4 bytes. The product's decoder lives elsewhere.
import { readFileSync } from 'node:fs';

export interface RgbImage {
  width: number;
  height: number;
  /** Interleaved RGB, top row first, 3 bytes per pixel. */
  data: Uint8Array;
}

export function readBmp(file: string): RgbImage {
  return decodeBmp(readFileSync(file));
}

export function decodeBmp(bytes: Uint8Array): RgbImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 54 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw new Error('not a BMP file');
  const pixelOffset = view.getUint32(10, true);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  if (compression !== 0 && compression !== 3) throw new Error(`compressed BMP (method ${compression}) not supported`);
  if (bitsPerPixel !== 24 && bitsPerPixel !== 32) throw new Error(`${bitsPerPixel}-bit BMP not supported`);

  const height = Math.abs(rawHeight);
  const bottomUp = rawHeight > 0;
  const bytesPerPixel = bitsPerPixel / 8;
  const stride = Math.ceil((width * bytesPerPixel) / 4) * 4;
  if (pixelOffset + stride * height > bytes.length) throw new Error('truncated BMP');

  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = pixelOffset + (bottomUp ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      const src = row + x * bytesPerPixel; // stored as B, G, R(, A)
      const dst = (y * width + x) * 3;
      data[dst] = bytes[src + 2]!;
      data[dst + 1] = bytes[src + 1]!;
      data[dst + 2] = bytes[src]!;
    }
  }
  return { width, height, data };
}
