// `npm start`: launches the desktop app when Electron's binary is installed, and otherwise
// says why not and how to get the same app in a browser.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function electronBinary() {
  let electronDir;
  try {
    electronDir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return undefined; // installed with --omit=dev
  }
  // Electron's own override of where its binary lives; a folder that does not exist means none.
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH && !existsSync(process.env.ELECTRON_OVERRIDE_DIST_PATH)) return undefined;
  if (!existsSync(path.join(electronDir, 'path.txt')) && !process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    // One quiet try at the download npm ci skipped (it succeeds once this machine is online).
    console.error('keizoku: fetching the Electron binary…');
    const fetched = spawnSync(process.execPath, [path.join(electronDir, 'install.js')], { stdio: 'ignore', timeout: 300_000 });
    if (fetched.status !== 0) return undefined;
  }
  try {
    const binary = require('electron'); // the binary's path; throws when it was never downloaded
    return typeof binary === 'string' && existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

const binary = electronBinary();
if (!binary) {
  console.error(
    [
      'keizoku: the Electron binary is not installed, so the desktop app cannot start.',
      '  (npm ci fetches it when this machine is online; retry with `npm rebuild keizoku`.)',
      '',
      'The same app runs in your browser:',
      '  npm run serve -- --root /path/to/project     then open the address it prints',
    ].join('\n'),
  );
  process.exit(1);
}

const child = spawn(binary, [repoRoot, ...process.argv.slice(2)], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
