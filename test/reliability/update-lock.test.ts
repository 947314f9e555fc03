// Who may update a project: a live update blocks a second update and a rollback, in any
// process; a dead one never blocks anything, whatever PID it had (PID 1 in a container, a PID
// reused after a reboot); and a commit never lands on a head that moved under it.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ErrorResultSchema, PredictResultSchema, UpdateResultSchema, VersionsResultSchema } from '../../main/engine/api/contract.js';
import { EngineService } from '../../main/engine/host/engine-service.js';
import { ProjectStore } from '../../main/engine/store/index.js';
import { CORAL_DIR, REPO_ROOT } from '../support/paths.js';
import { addCaltechClasses, runCli, startCli, TEST_CACHE_DIR, tempDir, testEnv } from '../support/project.js';
import { drill } from './support/drill-log.js';
import { dbFile, inspectState, photo, waitForStderr } from './support/state.js';

/** A project with version 1 (airplanes, ketch) and a third class waiting to be learned. */
function projectWithPendingClass(): string {
  const root = tempDir();
  addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 6 });
  const first = runCli(['update', '--root', root, '--json']);
  expect(first.status, first.stderr).toBe(0);
  addCaltechClasses(root, ['chair'], { limit: 6 });
  return root;
}

/** Starts an update that pauses at `point` until released, as a live update in another process. */
async function heldUpdate(root: string, point: 'after-embed' | 'after-train') {
  const releaseFile = path.join(tempDir(), 'release');
  const run = startCli(['update', '--root', root, '--json'], { KEIZOKU_HOLD_AT: point, KEIZOKU_HOLD_FILE: releaseFile });
  await waitForStderr(run, new RegExp(`holding at ${point}`));
  return {
    ...run,
    async release() {
      writeFileSync(releaseFile, '');
      return run.exited;
    },
  };
}

function errorCode(run: ReturnType<typeof runCli>): string {
  return ErrorResultSchema.parse(run.json()).error.code;
}

describe('the update lock', () => {
  it('projects being opened all the time (the app, predict, watch) never make an update look busy', async () => {
    const root = tempDir();
    const stateDir = path.join(root, '.keizoku');
    ProjectStore.open(stateDir).close();
    // Another process opens and closes the project for 4 s; each open tidies the journal under the lock for a moment.
    const opener = spawn(
      process.execPath,
      ['--input-type=module', '-e', `const { ProjectStore } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist', 'main', 'engine', 'store', 'index.js'))}); const end = Date.now() + 4000; let n = 0; while (Date.now() < end) { ProjectStore.open(${JSON.stringify(stateDir)}).close(); n++; } console.log(n);`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let opens = '';
    opener.stdout.setEncoding('utf8').on('data', (chunk: string) => (opens += chunk));
    const openerExit = new Promise((resolve) => opener.on('exit', resolve));
    const store = ProjectStore.open(stateDir);
    const starts = Array.from({ length: 40 }, (_, index) => index);
    try {
      await drill('update starts while the project is opened in a loop', starts, async () => {
        const id = store.updates.start();
        store.updates.finish(id, 'unchanged');
        await new Promise((resolve) => setTimeout(resolve, 50));
      });
    } finally {
      store.close();
      await openerExit;
    }
    expect(Number(opens)).toBeGreaterThan(40);
  });

  it('a live update refuses a second update and a rollback (CLI and app), while read-only commands go on', async () => {
    const root = projectWithPendingClass();
    const held = await heldUpdate(root, 'after-train');
    try {
      await drill('live update blocks update and rollback', ['update', 'rollback', 'app rollback', 'versions', 'predict'] as const, async (what) => {
        if (what === 'update') {
          const second = runCli(['update', '--root', root, '--json']);
          expect(second.status).toBe(1);
          expect(errorCode(second)).toBe('update-in-progress');
          expect(second.stderr).toMatch(new RegExp(`process ${held.child.pid}`));
        } else if (what === 'rollback') {
          const rollback = runCli(['rollback', '1', '--root', root, '--json']);
          expect(rollback.status).toBe(1);
          expect(errorCode(rollback)).toBe('update-in-progress');
        } else if (what === 'app rollback') {
          // The app's engine in this process: the lock is the same across processes and threads.
          const engine = new EngineService({ root, modelDir: CORAL_DIR, cacheDir: TEST_CACHE_DIR, watch: false }, () => undefined);
          try {
            await expect(engine.call('rollback', { id: 1 })).rejects.toThrow(/update of this project is running/);
          } finally {
            await engine.close();
          }
        } else if (what === 'versions') {
          expect(VersionsResultSchema.parse(runCli(['versions', '--root', root, '--json']).json()).head).toBe(1);
        } else {
          expect(PredictResultSchema.parse(runCli(['predict', '--root', root, '--json', photo('ketch', 0, 'test')]).json()).versionId).toBe(1);
        }
      });
    } finally {
      const exit = await held.release();
      expect(exit.code, held.output().stderr).toBe(0);
    }
    const committed = UpdateResultSchema.parse(JSON.parse(held.output().stdout));
    expect(committed.version).toMatchObject({ id: 2, parentId: 1 });
    expect(inspectState(root).head).toBe(2); // the refused rollback did not land, and nothing was lost
  });

  it('a dead update never blocks: killed as PID 1 in its own PID namespace (as in a container)', async (context) => {
    const probe = spawnSync('unshare', ['--pid', '--fork', 'true']);
    if (probe.status !== 0) {
      context.skip(`no PID namespaces here (unshare: ${probe.stderr?.toString().trim() || probe.error?.message}); needs root or user namespaces`);
    }
    const root = projectWithPendingClass();
    const releaseFile = path.join(tempDir(), 'never-released');
    // unshare --fork makes node PID 1 of a new namespace; it pauses inside its update.
    const inner = spawn('unshare', ['--pid', '--fork', process.execPath, path.join(REPO_ROOT, 'bin', 'keizoku.js'), 'update', '--root', root, '--json'], {
      env: { ...testEnv(), KEIZOKU_HOLD_AT: 'after-embed', KEIZOKU_HOLD_FILE: releaseFile },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    inner.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const innerExit = new Promise((resolve) => inner.on('exit', resolve));
    await waitForStderr({ exited: innerExit as never, output: () => ({ stdout: '', stderr }), child: inner } as never, /holding at after-embed/);
    const journal = new Database(dbFile(root), { readonly: true });
    expect(journal.prepare("SELECT pid FROM updates WHERE status = 'running'").get()).toEqual({ pid: 1 });
    journal.close();
    // SIGKILL the namespace's PID 1 from outside: the namespace and the update die with it.
    const nodePid = Number(spawnSync('pgrep', ['-P', String(inner.pid)], { encoding: 'utf8' }).stdout.trim());
    expect(nodePid).toBeGreaterThan(1);
    process.kill(nodePid, 'SIGKILL');
    await innerExit;

    await drill('dead PID 1 holder does not block', ['update after the kill'], () => {
      const next = runCli(['update', '--root', root, '--json']);
      expect(next.status, next.stderr).toBe(0);
      expect(UpdateResultSchema.parse(next.json()).version).toMatchObject({ id: 2, parentId: 1 });
      const state = inspectState(root);
      expect(state.running).toBe(0);
      expect(state.integrity).toBe('ok');
    });
  });

  it('a dead update whose PID now belongs to another live process (PID reuse after a reboot) does not block', async () => {
    const root = projectWithPendingClass();
    const stranger = spawn('sleep', ['60']);
    try {
      // What a crash leaves behind when the PID it recorded is later reused by an unrelated process.
      const journal = new Database(dbFile(root));
      journal.prepare("INSERT INTO updates (pid, started_at, status) VALUES (?, ?, 'running')").run(stranger.pid, new Date().toISOString());
      journal.close();
      await drill('reused PID does not block', ['update with a stale row of a live PID'], () => {
        const next = runCli(['update', '--root', root, '--json']);
        expect(next.status, next.stderr).toBe(0);
        expect(UpdateResultSchema.parse(next.json()).version.id).toBe(2);
        expect(inspectState(root).running).toBe(0);
      });
    } finally {
      stranger.kill();
    }
  });

  it('a head moved under a running update (by a writer that skips the lock) is never overwritten by its commit', async () => {
    const root = projectWithPendingClass();
    expect(runCli(['update', '--root', root, '--json']).status).toBe(0); // version 2: chair learned
    addCaltechClasses(root, ['Motorbikes'], { limit: 6 });
    const held = await heldUpdate(root, 'after-train');
    const raw = new Database(dbFile(root));
    raw.prepare("UPDATE settings SET value = '1' WHERE key = 'head_version'").run(); // an older Keizoku's rollback
    raw.close();
    const exit = await held.release();
    await drill('commit refuses a moved head', ['update learned from v2, head moved to v1'], () => {
      expect(exit.code).toBe(1);
      expect(ErrorResultSchema.parse(JSON.parse(held.output().stdout)).error.code).toBe('conflict');
      const state = inspectState(root);
      expect(state.head).toBe(1); // the rollback stands
      expect(state.versions.map((version) => version.id)).toEqual([1, 2]);
    });
    // And the next update learns from the head that is current now.
    const next = UpdateResultSchema.parse(runCli(['update', '--root', root, '--json']).json());
    expect(next.version).toMatchObject({ id: 3, parentId: 1 });
  });
});
