// Fetches the optional native pieces that npm is told not to fetch itself
// (package.json "allowScripts": onnxruntime-node's GPU providers; electron's binary).
// Online, a user gets them; offline (CI, air-gapped boxes) the install still succeeds
// and the app runs on CPU, saying why. Never fails the install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const TIMEOUT_MS = 180_000;

function runBestEffort(label, script, args = [], withoutIt = 'CPU stays available') {
  if (!existsSync(script)) return;
  // onnxruntime-node's installer exits early when it believes it is the project being
  // installed; drop npm's package markers so it decides for itself what is missing.
  const env = { ...process.env };
  delete env.npm_package_json;
  delete env.npm_config_local_prefix;
  const result = spawnSync(process.execPath, [script, ...args], { env, stdio: 'inherit', timeout: TIMEOUT_MS });
  if (result.status === 0 && !result.error) {
    console.log(`keizoku: ${label} installed`);
  } else {
    const why = result.error ? result.error.message : `exit code ${result.status}`;
    console.warn(`keizoku: ${label} not installed (${why}); ${withoutIt}. Rerun 'npm rebuild keizoku' when online.`);
  }
}

if (process.env.ONNXRUNTIME_NODE_INSTALL === 'skip' || process.env.KEIZOKU_SKIP_OPTIONAL_BINARIES === '1') {
  process.exit(0);
}

try {
  const ortDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
  runBestEffort('ONNX Runtime GPU providers', path.join(ortDir, 'script', 'install.js'));
} catch {
  // onnxruntime-node not installed (e.g. --omit); nothing to fetch.
}

try {
  // Electron's own postinstall fetches its binary; npm is told not to run it (allowScripts
  // electron: false) so that an offline `npm ci` still succeeds. Without it `npm start`
  // explains itself and `npm run serve` gives the same app in a browser.
  const electronDir = path.dirname(require.resolve('electron/package.json'));
  if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD !== '1') runBestEffort('Electron', path.join(electronDir, 'install.js'), [], 'the desktop app needs it; `npm run serve` works without');
} catch {
  // electron is a devDependency: absent with --omit=dev, where only serve mode exists.
}
