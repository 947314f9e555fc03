// Where the benchmark finds things: the repository (from source or from dist/), the shared
// read-only material beside it, and where raw per-section results go.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'resources'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('bench: cannot find the repository root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const REPO_ROOT = findRepoRoot();
export const SHARED_DIR = process.env.KEIZOKU_SHARED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared');
export const MODEL_MIRROR_DIR = path.join(SHARED_DIR, 'models', 'coral');
export const CALTECH_DIR = path.join(SHARED_DIR, 'data', 'caltech101');
export const CIFAR_DIR = path.join(SHARED_DIR, 'data', 'cifar10');
/** Raw results of each section, one JSON file per section (gitignored). */
export const RESULTS_DIR = path.join(REPO_ROOT, 'bench-results');
export const DOC_PATH = path.join(REPO_ROOT, 'docs', 'benchmarks.md');
