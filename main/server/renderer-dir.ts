import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built renderer: dist/renderer, beside dist/main/ (npm ci builds it through `prepare`). */
export function rendererDir(): string {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'renderer');
  if (!existsSync(path.join(dir, 'index.html'))) throw new Error(`the renderer is not built (${dir}): run 'npm run build'`);
  return dir;
}
