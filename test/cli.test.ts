// The keizoku CLI as users and scripts run it: a real process over real folders, with
// --json output checked against the published schemas.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  ErrorResultSchema,
  EvalResultSchema,
  PredictResultSchema,
  RollbackResultSchema,
  UpdateResultSchema,
  VersionsResultSchema,
  WatchResultSchema,
} from '../main/engine/api/contract.js';
import { pngBomb, RUNNING_AS_ROOT, SVG_TEXT, truncated } from './support/fixtures.js';
import { CALTECH_DIR } from './support/paths.js';
import { addCaltechClasses, runCli, startCli, tempDir } from './support/project.js';

/** The nth photo (sorted) of a Caltech class. */
const photo = (className: string, nth = 0, split: 'train' | 'test' = 'train') => {
  const dir = path.join(CALTECH_DIR, split, className);
  return path.join(dir, readdirSync(dir).sort()[nth]!);
};

describe('keizoku CLI', () => {
  it('update --json learns usable files, lists every unusable one with its reason, and exits 0', () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 10 });
    const outside = tempDir();
    writeFileSync(path.join(outside, 'secret.jpg'), readFileSync(photo('airplanes', 29)));
    writeFileSync(path.join(root, 'ketch', 'empty.jpg'), '');
    writeFileSync(path.join(root, 'ketch', 'truncated.jpg'), truncated(readFileSync(photo('ketch'))));
    writeFileSync(path.join(root, 'ketch', 'notes.jpg'), 'not a photo at all');
    writeFileSync(path.join(root, 'ketch', 'bomb.png'), pngBomb());
    writeFileSync(path.join(root, 'ketch', 'drawing.svg'), SVG_TEXT);
    symlinkSync(path.join(outside, 'secret.jpg'), path.join(root, 'airplanes', 'outside-link.jpg'));
    symlinkSync('loop-b.jpg', path.join(root, 'airplanes', 'loop-a.jpg'));
    symlinkSync('loop-a.jpg', path.join(root, 'airplanes', 'loop-b.jpg'));
    mkdirSync(path.join(root, 'airplanes', 'folder.jpg'));
    let unreadable: string | undefined;
    if (!RUNNING_AS_ROOT) {
      unreadable = path.join(root, 'ketch', 'locked.jpg');
      writeFileSync(unreadable, readFileSync(photo('ketch', 28)), { mode: 0o000 });
    }

    const run = runCli(['update', '--root', root, '--json']);
    expect(run.status, run.stderr).toBe(0);
    const result = UpdateResultSchema.parse(run.json());
    expect(result.status).toBe('committed');
    expect(result.classes.total).toBe(2);
    const reasons = Object.fromEntries(result.failed.map((entry) => [entry.path, entry.reason]));
    expect(reasons['ketch/empty.jpg']).toMatch(/empty/);
    expect(reasons['ketch/truncated.jpg']).toMatch(/truncated|corrupt/i);
    expect(reasons['ketch/notes.jpg']).toMatch(/not an image/);
    expect(reasons['ketch/bomb.png']).toMatch(/too large|pixel|limit/i);
    expect(reasons['ketch/drawing.svg']).toMatch(/svg/i);
    expect(reasons['airplanes/outside-link.jpg']).toMatch(/outside/);
    expect(reasons['airplanes/loop-a.jpg']).toMatch(/loop|link/i);
    if (unreadable) expect(reasons['ketch/locked.jpg']).toMatch(/permission|read/i);
    // the 20 real photos are all learned or held out; nothing unusable is
    expect(result.samples.train + result.samples.heldOut).toBe(20);
    expect(run.stderr).toMatch(/embedding/); // progress goes to stderr, stdout is one JSON object
  });

  it('update --json lists hostile names and links with their reasons and still commits', () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 5 });
    // Real photos under names and routes the scan must refuse: the decoder would accept them.
    writeFileSync(Buffer.concat([Buffer.from(path.join(root, 'ketch', 'bad')), Buffer.from([0xff, 0xfe]), Buffer.from('.jpg')]), readFileSync(photo('ketch', 10)));
    writeFileSync(path.join(root, 'ketch', 'cat\u202Egpj.exe'), readFileSync(photo('ketch', 11)));
    mkdirSync(path.join(root, 'ketch', '.more'));
    writeFileSync(path.join(root, 'ketch', '.more', 'x.jpg'), readFileSync(photo('ketch', 12)));
    symlinkSync('../.keizoku/keizoku.db', path.join(root, 'airplanes', 'db.jpg'));
    symlinkSync('../.keizoku', path.join(root, 'airplanes', 'state'));

    const run = runCli(['update', '--root', root, '--json']);
    expect(run.status, run.stderr).toBe(0);
    const result = UpdateResultSchema.parse(run.json());
    expect(result.status).toBe('committed');
    expect(result.classes.total).toBe(2);
    const reasons = Object.fromEntries(result.failed.map((entry) => [entry.path, entry.reason]));
    expect(reasons).toEqual({
      'ketch/bad\uFFFD\uFFFD.jpg': 'file name is not valid UTF-8: rename it',
      'ketch/cat<U+202E>gpj.exe': 'name contains text-direction control characters that disguise it: rename it',
      'ketch/.more': 'hidden folder (names starting with a dot are skipped)',
      'airplanes/db.jpg': "link points into Keizoku's state folder",
      'airplanes/state': "link points into Keizoku's state folder",
    });
    expect(result.samples.train + result.samples.heldOut).toBe(10);
  });

  it('answers bad invocations with exit code 2 and a JSON error', () => {
    const root = tempDir();
    const cases: Array<[string[], string]> = [
      [['update', '--json'], 'usage'],
      [['update', '--root', root, '--bogus', '--json'], 'usage'],
      [['update', '--root', root, '--device', 'tpu', '--json'], 'usage'],
      [['update', '--root', root, '--held-out', '1.5', '--json'], 'usage'],
      [['update', '--root', path.join(root, 'missing'), '--json'], 'usage'],
      [['predict', '--root', root, photo('ketch'), '--json'], 'no-model'],
      [['rollback', '--root', root, '7', '--json'], 'usage'],
      [['frobnicate', '--root', root, '--json'], 'usage'],
    ];
    for (const [args, code] of cases) {
      const run = runCli(args);
      expect(run.status, `${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(ErrorResultSchema.parse(run.json()).error.code).toBe(code);
    }
    expect(runCli(['--help']).stdout).toMatch(/Usage: keizoku/);
  });

  it('predict, eval, versions and rollback print their documented JSON; --device cuda falls back to CPU and says why', () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes', 'ketch', 'chair'], { limit: 12 });
    const first = UpdateResultSchema.parse(runCli(['update', '--root', root, '--json', '--device', 'cuda']).json());
    expect(first.device?.requested).toBe('cuda');
    if (first.device?.device === 'cpu') expect(first.device.fallbackReason).toMatch(/cuda/);

    addCaltechClasses(root, ['Motorbikes'], { limit: 12 });
    const second = UpdateResultSchema.parse(runCli(['update', '--root', root, '--json', '--device', 'cpu']).json());
    expect(second.device).toEqual({ requested: 'cpu', device: 'cpu' });
    expect(second.classes.added).toEqual(['Motorbikes']);
    expect(second.trainingDevice).toBeNull(); // the analytic learner runs no training graph

    const predicted = PredictResultSchema.parse(runCli(['predict', '--root', root, '--json', '--top', '2', photo('Motorbikes', 0, 'test')]).json());
    expect(predicted.predictions[0]!.top.map((entry) => entry.className)[0]).toBe('Motorbikes');
    expect(predicted.predictions[0]!.top).toHaveLength(2);

    const data = tempDir();
    addCaltechClasses(data, ['airplanes', 'Motorbikes'], { split: 'test', limit: 5 });
    const evaluated = EvalResultSchema.parse(runCli(['eval', '--root', root, '--data', data, '--json']).json());
    const groups = Object.fromEntries(evaluated.metrics.perClass.filter((entry) => entry.count > 0).map((entry) => [entry.className, entry.group]));
    expect(groups).toEqual({ airplanes: 'retained', Motorbikes: 'new' });

    const versions = VersionsResultSchema.parse(runCli(['versions', '--root', root, '--json']).json());
    expect(versions.head).toBe(2);
    expect(versions.versions.map((version) => [version.id, version.isHead])).toEqual([[1, false], [2, true]]);
    const back = RollbackResultSchema.parse(runCli(['rollback', '--root', root, '1', '--json']).json());
    expect(back.head.id).toBe(1);
    expect(back.previousHead).toBe(2);
    const afterRollback = PredictResultSchema.parse(runCli(['predict', '--root', root, '--json', photo('Motorbikes', 0, 'test')]).json());
    expect(afterRollback.versionId).toBe(1);
    expect(afterRollback.predictions[0]!.top.map((entry) => entry.className)).not.toContain('Motorbikes');
  });

  it('update --learner replay trains end to end, records its exemplars in replay_buffer, and honours both budget flags', () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 10 });
    const first = UpdateResultSchema.parse(runCli(['update', '--root', root, '--json', '--learner', 'replay', '--replay-per-class', '3', '--device', 'cuda']).json());
    expect(first.status).toBe('committed');
    // Training ran as ONNX graphs, on the device asked for or on CPU with the reason (no GPU here).
    expect(first.trainingDevice?.requested).toBe('cuda');
    if (first.trainingDevice?.device === 'cpu') expect(first.trainingDevice.fallbackReason).toMatch(/cuda/i);
    const db = path.join(root, '.keizoku', 'keizoku.db');
    const perClass = (versionId: number) => {
      const handle = new Database(db, { readonly: true });
      try {
        const rows = handle.prepare('SELECT class_name AS name, COUNT(*) AS n FROM replay_buffer WHERE version_id = ? GROUP BY class_name ORDER BY class_name').all(versionId) as Array<{ name: string; n: number }>;
        return Object.fromEntries(rows.map((row) => [row.name, row.n]));
      } finally {
        handle.close();
      }
    };
    expect(perClass(first.version.id)).toEqual({ airplanes: 3, ketch: 3 });

    addCaltechClasses(root, ['Motorbikes'], { limit: 10 });
    // 3 classes in 0.05 MB: (50 000 − 3 × 10 248 bytes of class statistics) / (3 × 5 120 bytes per exemplar) = 1 each.
    const second = UpdateResultSchema.parse(runCli(['update', '--root', root, '--json', '--replay-megabytes', '0.05']).json());
    expect(second.status).toBe('committed');
    expect(second.classes.added).toEqual(['Motorbikes']);
    expect(second.trainingDevice).toEqual({ requested: 'auto', device: 'cpu', fallbackReason: expect.stringMatching(/cuda/) });
    expect(perClass(second.version.id)).toEqual({ Motorbikes: 1, airplanes: 1, ketch: 1 });
    const predicted = PredictResultSchema.parse(runCli(['predict', '--root', root, '--json', photo('Motorbikes', 0, 'test')]).json());
    expect(predicted.predictions[0]!.top[0]!.className).toBe('Motorbikes');
  });

  it('watch embeds files as they land, so the next update only trains', async () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes'], { limit: 6 });
    const watcher = startCli(['watch', '--root', root, '--json']);
    await waitFor(() => /watching/.test(watcher.output().stderr), 60_000);
    addCaltechClasses(root, ['ketch', 'chair'], { limit: 6 });
    const db = path.join(root, '.keizoku', 'keizoku.db');
    await waitFor(() => readyCount(db) === 18, 60_000);
    watcher.child.kill('SIGINT');
    const exit = await watcher.exited;
    expect(exit.code, watcher.output().stderr).toBe(0);
    const watched = WatchResultSchema.parse(JSON.parse(watcher.output().stdout.trim()));
    expect(watched.events.added).toBe(12);
    expect(watched.embedded).toBe(18);

    const result = UpdateResultSchema.parse(runCli(['update', '--root', root, '--json']).json());
    expect(result.samples.embedded).toBe(0);
    expect(result.device).toBeNull(); // no inference needed at all
    expect(result.classes.total).toBe(3);
  });
});

describe('an update killed at any moment leaves the previous model intact', () => {
  const faultPoints = ['after-embed', 'after-train', 'inside-commit'] as const;

  for (const point of faultPoints) {
    it(`killed ${point}: version 1 stays current and usable; the next run recovers by itself`, () => {
      const root = tempDir();
      addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 8 });
      expect(runCli(['update', '--root', root, '--json']).status).toBe(0);
      addCaltechClasses(root, ['chair'], { limit: 8 });

      const killed = runCli(['update', '--root', root, '--json'], { KEIZOKU_FAULT_AT: point });
      expect(killed.signal).toBe('SIGKILL');

      const versions = VersionsResultSchema.parse(runCli(['versions', '--root', root, '--json']).json());
      expect(versions.head).toBe(1);
      expect(versions.versions).toHaveLength(1);
      const predicted = PredictResultSchema.parse(runCli(['predict', '--root', root, '--json', photo('ketch', 1, 'test')]).json());
      expect(predicted.versionId).toBe(1);

      const recovered = UpdateResultSchema.parse(runCli(['update', '--root', root, '--json']).json());
      expect(recovered.version).toMatchObject({ id: 2, parentId: 1 });
      expect(recovered.classes.added).toEqual(['chair']);
      const db = new Database(path.join(root, '.keizoku', 'keizoku.db'), { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare("SELECT count(*) AS n FROM updates WHERE status = 'interrupted'").get()).toEqual({ n: 1 });
      db.close();
    });
  }

  it('SIGKILL at arbitrary moments never corrupts the state', async () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 10 });
    expect(runCli(['update', '--root', root]).status).toBe(0);
    addCaltechClasses(root, ['chair', 'Motorbikes', 'butterfly'], { limit: 10 });
    for (const delayMs of [150, 400, 700, 1000, 1400]) {
      const run = startCli(['update', '--root', root, '--json']);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      run.child.kill('SIGKILL');
      await run.exited;
      const db = new Database(path.join(root, '.keizoku', 'keizoku.db'), { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
      const versions = VersionsResultSchema.parse(runCli(['versions', '--root', root, '--json']).json());
      expect(versions.head).toBe(versions.versions.at(-1)!.id); // head is always a whole version
    }
    const final = UpdateResultSchema.parse(runCli(['update', '--root', root, '--json']).json());
    expect(final.classes.total).toBe(5);
  });
});

function readyCount(dbFile: string): number {
  try {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT count(*) AS n FROM samples WHERE status = 'ready'").get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
