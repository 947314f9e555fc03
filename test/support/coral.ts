// The Coral sample images and ImageNet labels, and how to compare model outputs, for the tests
// that run imported TFLite backbones (tflite-import, int8-backbone).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { expect } from 'vitest';
import { readBmp } from './bmp.js';
import { CORAL_DIR } from './paths.js';

export const IMAGES = ['bird', 'cat', 'grace_hopper', 'dragonfly'] as const;
/** What MobileNetV2 (Coral's uint8 model) calls each of IMAGES. */
export const EXPECTED_TOP1 = ['chickadee', 'Egyptian cat', 'military uniform', 'dragonfly'] as const;
const LABELS = readFileSync(path.join(CORAL_DIR, 'imagenet_labels.txt'), 'utf8').split('\n');
/** First name of a class ("dragonfly, darning needle, ..." -> "dragonfly"). */
export const labelOf = (classId: number) => LABELS[classId]!.split(',')[0]!.trim();

export const modelBytes = (file: string) => new Uint8Array(readFileSync(path.join(CORAL_DIR, file)));

/**
 * The four sample images (512 px wide BMPs) stretched to size×size with sharp's default Lanczos
 * kernel (Coral's examples use PIL's LANCZOS), as real-valued NCHW: (q - zeroPoint) * scale.
 */
export async function imageBatch(size: number, quantization: { scale: number; zeroPoint: number }): Promise<ort.Tensor> {
  const plane = size * size;
  const out = new Float32Array(IMAGES.length * 3 * plane);
  for (const [i, name] of IMAGES.entries()) {
    const bmp = readBmp(path.join(CORAL_DIR, 'img', `${name}.bmp`));
    const rgb = await sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: 3 } })
      .resize(size, size, { fit: 'fill' })
      .raw()
      .toBuffer();
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) out[(i * 3 + c) * plane + p] = (rgb[p * 3 + c]! - quantization.zeroPoint) * quantization.scale;
    }
  }
  return new ort.Tensor('float32', out, [IMAGES.length, 3, size, size]);
}

export function rows(t: ort.Tensor): Float32Array[] {
  const [n, d] = t.dims as [number, number];
  const data = t.data as Float32Array;
  return Array.from({ length: n }, (_, i) => data.subarray(i * d, (i + 1) * d));
}

export const argmax = (v: Float32Array) => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);
export const topK = (v: Float32Array, k: number) => [...v.keys()].sort((a, b) => v[b]! - v[a]!).slice(0, k);

export interface Agreement {
  maxAbsDiff: number;
  /** max |a-b| / max |b|: relative to the tensor's scale, so tiny reference values do not blow it up */
  maxRelToRange: number;
  minCosine: number;
}

export function agreement(ours: ort.Tensor, reference: ort.Tensor): Agreement {
  expect(ours.dims).toEqual(reference.dims);
  let maxAbsDiff = 0;
  let maxRef = 0;
  let minCosine = 1;
  const refRows = rows(reference);
  rows(ours).forEach((a, i) => {
    const b = refRows[i]!;
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let k = 0; k < a.length; k++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[k]! - b[k]!));
      maxRef = Math.max(maxRef, Math.abs(b[k]!));
      dot += a[k]! * b[k]!;
      na += a[k]! ** 2;
      nb += b[k]! ** 2;
    }
    minCosine = Math.min(minCosine, dot / Math.sqrt(na * nb));
  });
  return { maxAbsDiff, maxRelToRange: maxAbsDiff / maxRef, minCosine };
}
