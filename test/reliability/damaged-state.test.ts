// A project whose state is read-only, damaged, too new or on a full disk: read-only commands
// still work where they can, everything else fails with code `state` and says why — in
// `serve` as in the CLI — and nothing in the state is changed by a refusal.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statfsSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorResultSchema, PredictResultSchema, UpdateResultSchema, VersionsResultSchema } from '../../main/engine/api/contract.js';
import { migrations } from '../../main/engine/store/migrations/index.js';
import { startServe } from '../support/browser.js';
import { addCaltechClasses, runCli, tempDir } from '../support/project.js';
import { drill } from './support/drill-log.js';
import { dbFile, inspectState, photo } from './support/state.js';

const mounts: string[] = [];
afterEach(() => {
  for (const dir of mounts.splice(0)) spawnSync('umount', ['-l', dir]);
});

/** A fresh tmpfs of `size` at a new folder, or the reason none can be mounted here. */
function mountTmpfs(size: string): { dir: string } | { skip: string } {
  const dir = tempDir('keizoku-mount-');
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) return { skip: `cannot mount a tmpfs here (${mounted.stderr.trim() || mounted.error?.message}); needs root with CAP_SYS_ADMIN` };
  mounts.push(dir);
  return { dir };
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const errorOf = (run: ReturnType<typeof runCli>) => ErrorResultSchema.parse(run.json()).error;

/** serve's answer when its engine cannot open the project: exit 1 and one JSON error. */
function serveError(root: string) {
  const run = runCli(['serve', '--root', root, '--port', '0', '--json']);
  expect(run.status, run.stderr).toBe(1);
  return errorOf(run);
}

function projectWithOneVersion(root = tempDir()): string {
  addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 6 });
  const first = runCli(['update', '--root', root, '--json']);
  expect(first.status, first.stderr).toBe(0);
  return root;
}

describe('damaged or unwritable state', () => {
  it('on read-only media, versions, predict, eval and export work (even with a committed WAL left by a crash); writing commands fail with state', async (context) => {
    const mount = mountTmpfs('128m');
    if ('skip' in mount) return context.skip(mount.skip);
    const root = projectWithOneVersion(path.join(mount.dir, 'project'));
    addCaltechClasses(root, ['chair'], { limit: 6 });
    // Killed right after its commit: version 2 may still sit in the WAL, not yet in the main file.
    expect(runCli(['update', '--root', root, '--json'], { KEIZOKU_FAULT_AT: 'after-commit' }).signal).toBe('SIGKILL');
    expect(spawnSync('mount', ['-o', 'remount,ro', mount.dir]).status).toBe(0);
    const evalDir = tempDir();
    addCaltechClasses(evalDir, ['ketch', 'chair'], { split: 'test', limit: 2 });

    await drill('read-only state: reading commands work', ['versions', 'predict', 'eval', 'export'] as const, (command) => {
      const args = {
        versions: ['versions'],
        predict: ['predict', photo('chair', 0, 'test')],
        eval: ['eval', '--data', evalDir],
        export: ['export', '--out', path.join(tempDir(), 'model.onnx')],
      }[command];
      const run = runCli([...args, '--root', root, '--json']);
      expect(run.status, run.stderr).toBe(0);
      const result = run.json();
      expect(command === 'versions' ? VersionsResultSchema.parse(result).head : result.versionId).toBe(2);
    });
    await drill('read-only state: writing commands refuse with state', ['update', 'rollback', 'watch'] as const, (command) => {
      const run = runCli([...(command === 'rollback' ? ['rollback', '1'] : [command]), '--root', root, '--json']);
      expect(run.status, run.stderr).toBe(1);
      const error = errorOf(run);
      expect(error.code).toBe('state');
      expect(error.message).toMatch(/cannot write|read-only/i);
    });
    // The app opens it too, to look at: no watcher, and whatever would write says why.
    const server = await startServe(['--root', root]);
    try {
      const call = async (method: string, body: object = {}) => {
        const answer = await fetch(new URL(`api/${method}`, server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return (await answer.json()) as { result?: any; error?: { code: string; message: string } };
      };
      await drill('read-only state: the app views it', ['overview', 'versions', 'predictImages', 'update', 'importFiles'] as const, async (method) => {
        if (method === 'overview') expect((await call('overview')).result).toMatchObject({ readOnly: true, head: { id: 2 } });
        else if (method === 'versions') expect((await call('versions')).result.head).toBe(2);
        else if (method === 'predictImages') {
          const dataBase64 = readFileSync(photo('chair', 1, 'test')).toString('base64');
          expect((await call('predictImages', { images: [{ name: 'chair.jpg', dataBase64 }] })).result.versionId).toBe(2);
        } else {
          const body = method === 'update' ? {} : { files: [{ className: 'chair', fileName: 'x.jpg', dataBase64: readFileSync(photo('chair', 2)).toString('base64') }] };
          expect((await call(method, body)).error).toMatchObject({ code: 'state', message: expect.stringMatching(/read-only/) });
        }
      });
    } finally {
      await server.stop();
    }
  });

  it('a database from a newer Keizoku is refused with state before anything in it changes (CLI and serve)', async () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes'], { limit: 2 });
    mkdirSync(path.join(root, '.keizoku'));
    const raw = new Database(dbFile(root)); // rollback-journal mode, as a future Keizoku might leave it
    raw.exec('CREATE TABLE future (x)');
    raw.pragma(`user_version = ${migrations.length + 1}`);
    raw.close();
    const before = sha256(dbFile(root));
    await drill('too-new database refused untouched', ['update', 'versions', 'predict', 'serve'] as const, (command) => {
      const error =
        command === 'serve'
          ? serveError(root)
          : errorOf(runCli([...(command === 'predict' ? ['predict', photo('ketch')] : [command]), '--root', root, '--json']));
      expect(error.code).toBe('state');
      expect(error.message).toMatch(/newer/);
      expect(sha256(dbFile(root))).toBe(before); // not even switched to WAL
      expect(existsSync(`${dbFile(root)}-wal`)).toBe(false);
    });
  });

  it('a garbage or truncated database gives state, never internal (CLI and serve)', async () => {
    const garbage = tempDir();
    addCaltechClasses(garbage, ['airplanes'], { limit: 2 });
    mkdirSync(path.join(garbage, '.keizoku'));
    writeFileSync(dbFile(garbage), Buffer.from(Array.from({ length: 8192 }, (_, index) => (index * 7919) % 251)));
    const truncated = projectWithOneVersion();
    truncateSync(dbFile(truncated), 4096); // the schema page survives, the tables do not

    const cases = [garbage, truncated].flatMap((root) => (['update', 'versions', 'predict', 'serve'] as const).map((command) => ({ root, command })));
    await drill('garbage or truncated database gives state', cases, ({ root, command }) => {
      const error =
        command === 'serve'
          ? serveError(root)
          : errorOf(runCli([...(command === 'predict' ? ['predict', photo('ketch')] : [command]), '--root', root, '--json']));
      expect(error.code).toBe('state');
      expect(error.message).toMatch(/damaged/);
    });
  });

  it('a full disk fails the update with state, keeps the previous version, and the update succeeds once there is room', async (context) => {
    const mount = mountTmpfs('96m');
    if ('skip' in mount) return context.skip(mount.skip);
    const root = projectWithOneVersion(path.join(mount.dir, 'project'));
    addCaltechClasses(root, ['chair', 'Motorbikes'], { limit: 6 });
    // Leave about 1 MB: less than a new analytic version (its float64 Gram alone is 13 MB).
    const { bavail, bsize } = statfsSync(mount.dir);
    const filler = path.join(mount.dir, 'filler');
    writeFileSync(filler, Buffer.alloc(Math.max(0, Number(bavail) * Number(bsize) - 1024 * 1024)));

    await drill('disk full during update', ['update on a full disk'], () => {
      const full = runCli(['update', '--root', root, '--json']);
      expect(full.status, full.stderr).toBe(1);
      const error = errorOf(full);
      expect(error.code).toBe('state');
      expect(error.message).toMatch(/disk is full/);
      const state = inspectState(root);
      expect(state.integrity).toBe('ok');
      expect(state.head).toBe(1);
      expect(PredictResultSchema.parse(runCli(['predict', '--root', root, '--json', photo('chair', 0, 'test')]).json()).versionId).toBe(1);
    });
    rmSync(filler);
    const roomy = UpdateResultSchema.parse(runCli(['update', '--root', root, '--json']).json());
    expect(roomy.version).toMatchObject({ id: 2, parentId: 1 });
  });
});
