// Packaging step (npm run dist): puts the catalog's default backbone file into
// build/models/, which electron-builder ships as the extra resource `models/`, so an
// installed app works offline from its first launch. Takes the file from the cache or the
// mirror folder (KEIZOKU_MODEL_DIR) when present, else downloads it; checks its sha256.
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalog } from '../dist/main/engine/backbones/catalog.js';
import { defaultCacheDir, obtainModelFile, sha256OfFile } from '../dist/main/engine/backbones/model-files.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.resolve(process.argv[2] ?? path.join(repoRoot, 'build', 'models'));

const catalog = loadCatalog();
const entry = catalog.backbones.find((candidate) => candidate.id === catalog.default);
const source = await obtainModelFile(entry, {
  cacheDir: process.env.KEIZOKU_CACHE_DIR ?? defaultCacheDir(),
  mirrorDir: process.env.KEIZOKU_MODEL_DIR,
  allowDownload: true,
});
await mkdir(outDir, { recursive: true });
const target = path.join(outDir, entry.fileName);
await copyFile(source.path, target);
if ((await sha256OfFile(target)) !== entry.sha256) throw new Error(`${target}: checksum mismatch`);
console.log(`keizoku: bundled ${entry.id} (${source.origin}) into ${path.relative(repoRoot, target)}`);
