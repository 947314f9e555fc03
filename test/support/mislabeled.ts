// Photos that land on a known side of the held-out split, to plant a deliberately mislabeled file.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hashPosition } from '../../main/engine/evaluation/index.js';
import { CALTECH_DIR } from './paths.js';

/** The first Caltech test photo of `className` whose content lands on the wanted side of the default held-out split (0.2), with a margin. */
export function photoOnSide(className: string, side: 'train' | 'heldout'): string {
  const dir = path.join(CALTECH_DIR, 'test', className);
  const position = (file: string) => hashPosition(createHash('sha256').update(readFileSync(file)).digest('hex'));
  const file = readdirSync(dir)
    .sort()
    .map((name) => path.join(dir, name))
    .find((candidate) => (side === 'heldout' ? position(candidate) < 0.15 : position(candidate) > 0.5));
  if (!file) throw new Error(`no ${className} test photo on the ${side} side`);
  return file;
}
