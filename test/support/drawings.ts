// Synthetic line drawings of real photos: a new look of known classes, for sub-group tests.
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { CALTECH_DIR } from './paths.js';

/** PNG line drawings of a Caltech class's photos [from, to) (sorted): greyscale → Laplacian edges → threshold → invert. */
export async function drawCaltechLines(className: string, split: 'train' | 'test', range: [number, number], into: string): Promise<void> {
  const source = path.join(CALTECH_DIR, split, className);
  mkdirSync(into, { recursive: true });
  for (const name of readdirSync(source).sort().slice(...range)) {
    // Two passes: sharp runs one pipeline's operations in its own fixed order, negate before
    // convolve, which in one chain gives sparse white edges on black instead of dark lines on white.
    const edges = await sharp(path.join(source, name)).greyscale().convolve({ width: 3, height: 3, kernel: [-1, -1, -1, -1, 8, -1, -1, -1, -1] }).threshold(30).png().toBuffer();
    await sharp(edges).negate().png().toFile(path.join(into, `${name}.png`));
  }
}
