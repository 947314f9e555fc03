import { appendFile, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AsyncQueue, watchProjectFolder, type ProjectWatcher, type WatchEvent } from '../main/engine/dataset/index.js';
import { makeTempDir, writeFileIn } from './support/fixtures.js';

let root: string;
let cleanup: () => Promise<void>;
let watcher: ProjectWatcher | undefined;
let events: WatchEvent[];
let consumed: Promise<void>;

const STABILITY_MS = 300;

async function start(): Promise<void> {
  watcher = watchProjectFolder(root, { stabilityThresholdMs: STABILITY_MS, pollIntervalMs: 50 });
  await watcher.ready;
  events = [];
  const w = watcher;
  consumed = (async () => {
    for await (const e of w) events.push(e);
  })();
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(events.slice(-10))}`);
    await sleep(25);
  }
}

const rel = (e: WatchEvent) => ('file' in e ? e.file.relPath : 'className' in e ? e.className : e.failure.path);
const kinds = (relPath: string) => events.filter((e) => rel(e) === relPath).map((e) => e.kind);

beforeEach(async () => {
  ({ dir: root, cleanup } = await makeTempDir('keizoku-watch-'));
  await writeFileIn(root, 'cats/existing.jpg', 'old');
  await mkdir(path.join(root, 'dogs'));
});
afterEach(async () => {
  await watcher?.close();
  await consumed;
  watcher = undefined;
  await cleanup();
});

describe('watchProjectFolder', () => {
  it('reports added files (with their class) and new class folders; not the initial tree', async () => {
    await start();
    await writeFileIn(root, 'cats/new.jpg', 'hello');
    await writeFileIn(root, 'birds/sub/b.png', 'bird!');
    await waitFor('two files', () => events.filter((e) => e.kind === 'added').length === 2);
    const added = events.filter((e) => e.kind === 'added');
    const cat = added.find((e) => rel(e) === 'cats/new.jpg')!;
    expect(cat.kind === 'added' && cat.file).toMatchObject({ absPath: path.join(root, 'cats', 'new.jpg'), className: 'cats', size: 5 });
    const bird = added.find((e) => rel(e) === 'birds/sub/b.png')!;
    expect(bird.kind === 'added' && bird.file.className).toBe('birds');
    expect(events.filter((e) => e.kind === 'classAdded')).toEqual([{ kind: 'classAdded', className: 'birds' }]);
    expect(events.findIndex((e) => e.kind === 'classAdded')).toBeLessThan(events.indexOf(bird));
    expect(kinds('cats/existing.jpg')).toEqual([]);
  });

  it('a burst of 1200 small files: all arrive, none dropped, none twice', async () => {
    await start();
    const N = 1200;
    const names: string[] = [];
    // Into an existing class, and into a class folder created in the same instant.
    for (let i = 0; i < N; i++) names.push(`${i % 2 ? 'cats/burst' : 'brand-new'}/${String(i).padStart(4, '0')}.jpg`);
    await mkdir(path.join(root, 'cats', 'burst'));
    await mkdir(path.join(root, 'brand-new'));
    await Promise.all(names.map((n) => writeFile(path.join(root, n), `content ${n}`)));
    await waitFor(`${N} added events`, () => events.filter((e) => e.kind === 'added').length >= N, 60_000);
    await sleep(STABILITY_MS * 2);
    const added = events.filter((e) => e.kind === 'added').map(rel);
    expect(added).toHaveLength(N);
    expect(new Set(added)).toEqual(new Set(names));
    expect(events.filter((e) => e.kind !== 'added')).toEqual([{ kind: 'classAdded', className: 'brand-new' }]);
  }, 120_000);

  it('a move between class folders arrives as removed + added; a delete as removed', async () => {
    await start();
    await rename(path.join(root, 'cats', 'existing.jpg'), path.join(root, 'dogs', 'moved.jpg'));
    await waitFor('move', () => kinds('dogs/moved.jpg').includes('added') && kinds('cats/existing.jpg').includes('removed'));
    expect(events.find((e) => e.kind === 'removed')).toEqual({ kind: 'removed', file: { relPath: 'cats/existing.jpg', className: 'cats' } });
    const added = events.find((e) => e.kind === 'added');
    expect(added?.kind === 'added' && [added.file.className, added.file.size]).toEqual(['dogs', 3]);

    await rm(path.join(root, 'dogs', 'moved.jpg'));
    await waitFor('delete', () => kinds('dogs/moved.jpg').includes('removed'));
    expect(kinds('dogs/moved.jpg')).toEqual(['added', 'removed']);
  });

  it('a file written slowly in chunks arrives once, complete', async () => {
    await start();
    const file = path.join(root, 'cats', 'slow.jpg');
    const chunk = Buffer.alloc(64 * 1024, 7);
    await writeFile(file, chunk);
    for (let i = 1; i < 8; i++) {
      await sleep(STABILITY_MS / 4);
      await appendFile(file, chunk);
    }
    await waitFor('slow file', () => kinds('cats/slow.jpg').length > 0);
    await sleep(STABILITY_MS * 3);
    expect(kinds('cats/slow.jpg')).toEqual(['added']);
    const e = events.find((x) => rel(x) === 'cats/slow.jpg');
    expect(e?.kind === 'added' && e.file.size).toBe(8 * chunk.length);
  });

  it('later changes arrive as changed; class folder removal as removed + classRemoved', async () => {
    await start();
    await writeFile(path.join(root, 'cats', 'existing.jpg'), 'new content');
    await waitFor('change', () => kinds('cats/existing.jpg').includes('changed'));
    const changed = events.find((e) => e.kind === 'changed');
    expect(changed?.kind === 'changed' && changed.file.size).toBe(11);

    await rm(path.join(root, 'cats'), { recursive: true });
    await waitFor('class removal', () => events.some((e) => e.kind === 'classRemoved'));
    await waitFor('file removal', () => kinds('cats/existing.jpg').includes('removed'));
    expect(events.filter((e) => e.kind === 'classRemoved')).toEqual([{ kind: 'classRemoved', className: 'cats' }]);
  });

  it('ignores hidden, temporary and state files; reports files put directly in the root', async () => {
    await start();
    for (const name of ['cats/.hidden.jpg', 'cats/x.jpg.part', 'cats/y.jpg.crdownload', 'cats/~$lock.docx', 'cats/z.tmp',
      'cats/.DS_Store', 'cats/Thumbs.db', 'cats/desktop.ini', 'cats/.x.swp', '.keizoku/db.sqlite', '.hiddenclass/a.jpg']) {
      await writeFileIn(root, name, 'junk');
    }
    await writeFileIn(root, 'stray.jpg', 'x');
    // A partial download renamed to its final name when complete: only the final name is reported.
    await rename(path.join(root, 'cats', 'y.jpg.crdownload'), path.join(root, 'cats', 'y.jpg'));
    await writeFileIn(root, 'cats/sentinel.jpg', 'done');
    await waitFor('sentinel', () => kinds('cats/sentinel.jpg').includes('added') && kinds('cats/y.jpg').includes('added'));
    await sleep(STABILITY_MS * 2);
    expect(events.map((e) => `${e.kind} ${rel(e)}`).sort()).toEqual([
      'added cats/sentinel.jpg',
      'added cats/y.jpg',
      'failed .hiddenclass', // a folder, listed like the scan lists it; its files stay unreported
      'failed stray.jpg',
    ]);
    expect(events.find((e) => rel(e) === 'stray.jpg')).toEqual({ kind: 'failed', failure: { path: 'stray.jpg', reason: 'not inside a class folder' } });
  });

  it('reports a link that points outside the project folder', async () => {
    const out = await makeTempDir('keizoku-watch-outside-');
    try {
      await writeFileIn(out.dir, 'secret.jpg', 'secret');
      await start();
      await symlink(path.join(out.dir, 'secret.jpg'), path.join(root, 'cats', 'link.jpg'));
      await symlink(path.join(root, 'cats', 'existing.jpg'), path.join(root, 'dogs', 'inside-link.jpg'));
      await waitFor('links', () => kinds('cats/link.jpg').length > 0 && kinds('dogs/inside-link.jpg').length > 0);
      expect(events.find((e) => rel(e) === 'cats/link.jpg')).toEqual({
        kind: 'failed', failure: { path: 'cats/link.jpg', reason: 'link points outside the project folder' },
      });
      const inside = events.find((e) => rel(e) === 'dogs/inside-link.jpg');
      expect(inside?.kind === 'added' && [inside.file.className, inside.file.size]).toEqual(['dogs', 3]);
    } finally {
      await watcher?.close();
      await out.cleanup();
    }
  });

  it('reports names that are not valid UTF-8, text-direction names and hidden folders, like the scan', async () => {
    await start();
    const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => Buffer.from(p as string)));
    await writeFile(bytes(root, '/cats/bad', [0xff, 0xfe], '.jpg'), 'x');
    await mkdir(bytes(root, '/birds', [0xe9]));
    await writeFileIn(root, 'cats/cat\u202Egpj.exe', 'x');
    await writeFileIn(root, 'cats/.more/b.jpg', 'x');
    await writeFileIn(root, 'cats/.DS_Store', 'x');
    await writeFileIn(root, 'cats/sentinel.jpg', 'done');
    const expected: Record<string, string> = {
      'cats/bad\uFFFD\uFFFD.jpg': 'file name is not valid UTF-8: rename it',
      'birds\uFFFD': 'folder name is not valid UTF-8: rename it',
      'cats/cat<U+202E>gpj.exe': 'name contains text-direction control characters that disguise it: rename it',
      'cats/.more': 'hidden folder (names starting with a dot are skipped)',
    };
    await waitFor('failures', () => Object.keys(expected).every((p) => kinds(p).includes('failed')) && kinds('cats/sentinel.jpg').includes('added'));
    await sleep(STABILITY_MS * 2);
    const failed = events.filter((e) => e.kind === 'failed');
    expect(Object.fromEntries(failed.map((e) => [rel(e), e.kind === 'failed' && e.failure.reason]))).toEqual(expected);
    expect(failed).toHaveLength(4); // each once: no "disappeared", nothing from inside the hidden folder
    expect(events.filter((e) => e.kind === 'added').map(rel)).toEqual(['cats/sentinel.jpg']);
  });

  it('reports links into the state folder or a hidden folder instead of adding the files behind them', async () => {
    await writeFileIn(root, '.keizoku/keizoku.db', 'live database');
    await writeFileIn(root, '.stash/s.jpg', 'x');
    await start();
    await symlink('../.keizoku/keizoku.db', path.join(root, 'cats', 'db.jpg'));
    await symlink('../.keizoku', path.join(root, 'dogs', 'state'));
    await symlink('../.stash/s.jpg', path.join(root, 'cats', 's.jpg'));
    await writeFileIn(root, 'cats/sentinel.jpg', 'done');
    await waitFor('links', () => ['cats/db.jpg', 'dogs/state', 'cats/s.jpg'].every((p) => kinds(p).length > 0) && kinds('cats/sentinel.jpg').length > 0);
    // The live database keeps changing: nothing behind the link may ever be reported as a sample.
    await writeFileIn(root, '.keizoku/keizoku.db', 'live database, changed');
    await sleep(STABILITY_MS * 3);
    expect(events.filter((e) => e.kind !== 'classAdded').map((e) => [e.kind, rel(e), e.kind === 'failed' ? e.failure.reason : '']).sort()).toEqual([
      ['added', 'cats/sentinel.jpg', ''],
      ['failed', 'cats/db.jpg', "link points into Keizoku's state folder"],
      ['failed', 'cats/s.jpg', 'link points into a hidden folder'],
      ['failed', 'dogs/state', "link points into Keizoku's state folder"],
    ]);
  });

  it('close() ends iteration after queued events; take() batches', async () => {
    await start();
    await watcher!.close();
    await consumed;
    const w = watchProjectFolder(root, { stabilityThresholdMs: 100, pollIntervalMs: 20 });
    try {
      await w.ready;
      for (let i = 0; i < 20; i++) await writeFileIn(root, `dogs/t${i}.jpg`, 'x');
      const got: WatchEvent[] = [];
      while (got.length < 20) got.push(...(await w.take(8)));
      expect(got).toHaveLength(20);
    } finally {
      await w.close();
    }
    expect(await w.next()).toBeUndefined();
    expect(await w.take()).toEqual([]);
  });

  it('rejects ready for a missing root', async () => {
    const w = watchProjectFolder(path.join(root, 'missing'));
    await expect(w.ready).rejects.toThrow(/ENOENT/);
    await w.close();
  });
});

describe('AsyncQueue', () => {
  it('delivers in order to waiting and later consumers, then ends', async () => {
    const q = new AsyncQueue<number>();
    const first = q.next();
    q.push(1);
    for (let i = 2; i <= 3000; i++) q.push(i);
    expect(await first).toEqual({ value: 1, done: false });
    const rest: number[] = [];
    q.close();
    q.push(9999); // ignored after close
    for await (const v of q) rest.push(v);
    expect(rest).toEqual(Array.from({ length: 2999 }, (_, i) => i + 2));
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });
});
