// Temporary project folders filled with real photos from ../shared/data, and a way to run
// the built CLI as a real process.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CALTECH_DIR, CORAL_DIR, REPO_ROOT } from './paths.js';

export function tempDir(prefix = 'keizoku-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Copies up to `limit` files of each Caltech class (sorted) from `split` into root/<class>/. */
export function addCaltechClasses(root: string, classes: readonly string[], options: { split?: 'train' | 'test'; limit?: number; into?: string } = {}): string[] {
  const copied: string[] = [];
  for (const className of classes) {
    const source = path.join(CALTECH_DIR, options.split ?? 'train', className);
    const target = path.join(root, options.into ?? className);
    mkdirSync(target, { recursive: true });
    for (const file of readdirSync(source).sort().slice(0, options.limit ?? Infinity)) {
      copyFileSync(path.join(source, file), path.join(target, file));
      copied.push(path.join(target, file));
    }
  }
  return copied;
}

/** A shared model cache for the whole test run, so each backbone is imported once per file. */
export const TEST_CACHE_DIR = path.join(os.tmpdir(), 'keizoku-test-cache');

export const testEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  KEIZOKU_MODEL_DIR: CORAL_DIR,
  KEIZOKU_CACHE_DIR: TEST_CACHE_DIR,
});

const CLI = path.join(REPO_ROOT, 'bin', 'keizoku.js');

/** Runs the built CLI to completion. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> & { json: () => any } {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...testEnv(), ...env },
    timeout: 170_000,
    killSignal: 'SIGKILL', // a CLI hung on a file must not hang the test run with it
  });
  return Object.assign(result, {
    json: () => {
      const lines = result.stdout.trim().split('\n');
      if (lines.length !== 1) throw new Error(`expected one line of JSON on stdout, got ${lines.length}:\n${result.stdout}\n${result.stderr}`);
      return JSON.parse(lines[0]!);
    },
  });
}

/** Starts the built CLI in the background. */
export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...testEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => ({ stdout, stderr }) };
}
