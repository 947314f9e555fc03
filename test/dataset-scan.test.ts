import { execFileSync } from 'node:child_process';
import { chmod, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isIgnoredName, scanProject } from '../main/engine/dataset/index.js';
import { Project } from '../main/engine/project/project.js';
import { stateDirNameInside } from '../main/engine/use-cases/sample-sync.js';
import { makeTempDir, RUNNING_AS_ROOT, writeFileIn } from './support/fixtures.js';

let root: string;
let outside: string;
let cleanups: Array<() => Promise<void>> = [];

beforeEach(async () => {
  const a = await makeTempDir('keizoku-scan-');
  const b = await makeTempDir('keizoku-outside-');
  root = a.dir;
  outside = b.dir;
  cleanups = [a.cleanup, b.cleanup];
});
afterEach(async () => {
  await chmod(path.join(root, 'dogs', 'locked'), 0o755).catch(() => undefined);
  for (const c of cleanups) await c();
});

describe('scanProject', () => {
  it('maps top-level folders to classes, nested files included, sorted', async () => {
    await writeFileIn(root, 'dogs/b.jpg', 'b');
    await writeFileIn(root, 'dogs/a.jpg', 'aa');
    await writeFileIn(root, 'dogs/puppies/2019/c.png', 'ccc');
    await writeFileIn(root, 'cats/z.jpg', 'z');
    await writeFileIn(root, 'Cats Big/x y.jpg', 'x');
    await writeFileIn(root, 'cats/notes.txt', 'not an image, but kept: the decoder gives the reason');
    await mkdir(path.join(root, 'empty-class'));

    const r = await scanProject(root);
    expect(r.classNames).toEqual(['Cats Big', 'cats', 'dogs', 'empty-class']);
    expect(r.files.map((f) => [f.relPath, f.className])).toEqual([
      ['Cats Big/x y.jpg', 'Cats Big'],
      ['cats/notes.txt', 'cats'],
      ['cats/z.jpg', 'cats'],
      ['dogs/a.jpg', 'dogs'],
      ['dogs/b.jpg', 'dogs'],
      ['dogs/puppies/2019/c.png', 'dogs'],
    ]);
    const c = r.files.find((f) => f.relPath === 'dogs/puppies/2019/c.png')!;
    const st = await stat(path.join(root, 'dogs', 'puppies', '2019', 'c.png'));
    expect(c).toEqual({ absPath: path.join(root, 'dogs', 'puppies', '2019', 'c.png'), relPath: c.relPath, className: 'dogs', size: 3, mtimeMs: st.mtimeMs });
    expect(r.failed).toEqual([]);
  });

  it('ignores hidden, temporary and state files silently; reports files in the root once', async () => {
    await writeFileIn(root, 'cats/ok.jpg', 'x');
    for (const name of [
      '.DS_Store', '.hidden.jpg', '~$report.docx', 'photo.jpg.tmp', 'big.jpg.part', 'dl.jpg.crdownload', 'Thumbs.db',
      'desktop.ini', '.photo.jpg.swp', 'x.swp', 'file.jpg~', 'DESKTOP.INI',
    ]) {
      await writeFileIn(root, `cats/${name}`, 'junk');
    }
    await writeFileIn(root, 'cats/.git/objects/aa', 'junk');
    await writeFileIn(root, '.keizoku/cache.sqlite', 'state');
    await writeFileIn(root, '.Trash/cats/x.jpg', 'junk');
    await writeFileIn(root, 'stray.jpg', 'x');
    await writeFileIn(root, 'README.txt', 'x');
    const r = await scanProject(root);
    expect(r.classNames).toEqual(['cats']);
    expect(r.files.map((f) => f.relPath)).toEqual(['cats/ok.jpg']);
    expect(r.failed).toEqual([
      { path: 'README.txt', reason: 'not inside a class folder' },
      { path: 'stray.jpg', reason: 'not inside a class folder' },
    ]);
    expect(isIgnoredName('photo.jpg')).toBe(false);
  });

  it('skips a state folder with a custom (non-hidden) name', async () => {
    await writeFileIn(root, 'keizoku-state/db.sqlite', 'x');
    await writeFileIn(root, 'cats/a.jpg', 'x');
    const r = await scanProject(root, { stateDirName: 'keizoku-state' });
    expect(r.classNames).toEqual(['cats']);
    expect(r.files.map((f) => f.relPath)).toEqual(['cats/a.jpg']);
  });

  it('follows links inside the root; reports links outside, dangling links and loops', async () => {
    await writeFileIn(root, 'cats/a.jpg', 'aaaa');
    await writeFileIn(root, 'shared-pool/p.jpg', 'pp');
    await writeFileIn(outside, 'secret.jpg', 'secret');
    await writeFileIn(outside, 'dir/s.jpg', 's');
    await symlink(path.join(root, 'cats', 'a.jpg'), path.join(root, 'cats', 'link-to-a.jpg'));
    await mkdir(path.join(root, 'dogs'));
    await symlink('../shared-pool', path.join(root, 'dogs', 'pool'));
    await symlink(path.join(outside, 'secret.jpg'), path.join(root, 'cats', 'secret.jpg'));
    await symlink(path.join(outside, 'dir'), path.join(root, 'cats', 'outdir'));
    await symlink(path.join(root, 'cats', 'missing.jpg'), path.join(root, 'cats', 'dangling.jpg'));
    await symlink('..', path.join(root, 'cats', 'loop'));
    await symlink('self', path.join(root, 'cats', 'self'));
    await symlink(outside, path.join(root, 'outside-class'));
    await symlink('cats', path.join(root, 'cats-alias'));

    const r = await scanProject(root);
    expect(r.classNames).toEqual(['cats', 'cats-alias', 'dogs', 'shared-pool']);
    expect(r.files.map((f) => f.relPath)).toEqual([
      'cats-alias/a.jpg', 'cats-alias/link-to-a.jpg', 'cats/a.jpg', 'cats/link-to-a.jpg', 'dogs/pool/p.jpg', 'shared-pool/p.jpg',
    ]);
    const link = r.files.find((f) => f.relPath === 'cats/link-to-a.jpg')!;
    expect(link.size).toBe(4); // the target's size
    expect(link.absPath).toBe(path.join(root, 'cats', 'link-to-a.jpg'));
    expect(r.failed).toEqual([
      { path: 'cats-alias/dangling.jpg', reason: 'broken link (target does not exist)' },
      { path: 'cats-alias/loop', reason: 'symlink loop (links back to a parent folder)' },
      { path: 'cats-alias/outdir', reason: 'link points outside the project folder' },
      { path: 'cats-alias/secret.jpg', reason: 'link points outside the project folder' },
      { path: 'cats-alias/self', reason: 'symlink loop' },
      { path: 'cats/dangling.jpg', reason: 'broken link (target does not exist)' },
      { path: 'cats/loop', reason: 'symlink loop (links back to a parent folder)' },
      { path: 'cats/outdir', reason: 'link points outside the project folder' },
      { path: 'cats/secret.jpg', reason: 'link points outside the project folder' },
      { path: 'cats/self', reason: 'symlink loop' },
      { path: 'outside-class', reason: 'link points outside the project folder' },
    ]);
  });

  it('reports special files and keeps going', async () => {
    await writeFileIn(root, 'cats/a.jpg', 'x');
    execFileSync('mkfifo', [path.join(root, 'cats', 'pipe.jpg')]);
    const r = await scanProject(root);
    expect(r.files.map((f) => f.relPath)).toEqual(['cats/a.jpg']);
    expect(r.failed).toEqual([{ path: 'cats/pipe.jpg', reason: 'not a regular file (named pipe)' }]);
  });

  // As root, permission bits do not stop reads, so there is nothing to observe: skipped there.
  it.skipIf(RUNNING_AS_ROOT)('reports unreadable folders and files (EACCES) and keeps going', async () => {
    await writeFileIn(root, 'dogs/ok.jpg', 'x');
    await writeFileIn(root, 'dogs/locked/inner.jpg', 'x');
    await writeFileIn(root, 'dogs/private.jpg', 'x');
    await chmod(path.join(root, 'dogs', 'private.jpg'), 0o000);
    await chmod(path.join(root, 'dogs', 'locked'), 0o000);
    const r = await scanProject(root);
    expect(r.files.map((f) => f.relPath)).toEqual(['dogs/ok.jpg']);
    expect(r.failed).toEqual([
      { path: 'dogs/locked', reason: 'cannot read folder: permission denied' },
      { path: 'dogs/private.jpg', reason: 'cannot read file: permission denied' },
    ]);
  });

  it('lists files and folders whose names are not valid UTF-8, with a displayable path, and keeps going', async () => {
    await writeFileIn(root, 'cats/ok.jpg', 'x');
    const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    await writeFile(bytes(root, '/cats/bad', [0xff, 0xfe], '.jpg'), 'x');
    await mkdir(bytes(root, '/cats/sub', [0xc3]));
    await writeFile(bytes(root, '/cats/sub', [0xc3], '/inner.jpg'), 'x');
    await mkdir(bytes(root, '/dogs', [0xe9]));
    await writeFile(bytes(root, '/dogs', [0xe9], '/d.jpg'), 'x');
    await writeFile(bytes(root, '/cats/.hidden', [0xff]), 'junk'); // hidden stays silent, whatever its bytes
    const r = await scanProject(root);
    expect(r.classNames).toEqual(['cats']);
    expect(r.files.map((f) => f.relPath)).toEqual(['cats/ok.jpg']);
    expect(r.failed).toEqual([
      { path: 'cats/bad\uFFFD\uFFFD.jpg', reason: 'file name is not valid UTF-8: rename it' },
      { path: 'cats/sub\uFFFD', reason: 'folder name is not valid UTF-8: rename it' },
      { path: 'dogs\uFFFD', reason: 'folder name is not valid UTF-8: rename it' },
    ]);
  });

  it('lists names with text-direction controls (they disguise a name) but keeps Windows-reserved names', async () => {
    await writeFileIn(root, 'cats/cat\u202Egpj.exe', 'x');
    await writeFileIn(root, 'cats/aux.jpg', 'x'); // the user's file: only import refuses such names
    await writeFileIn(root, 'cats/in\u2067side/x.jpg', 'x');
    await writeFileIn(root, 'do\u202Dgs/y.jpg', 'x');
    await writeFileIn(root, 'cats/mark\u200F.jpg', 'x'); // a mark, not an override: allowed
    const r = await scanProject(root);
    expect(r.classNames).toEqual(['cats']);
    expect(r.files.map((f) => f.relPath)).toEqual(['cats/aux.jpg', 'cats/mark\u200F.jpg']);
    const reason = 'name contains text-direction control characters that disguise it: rename it';
    expect(r.failed).toEqual([
      { path: 'cats/cat<U+202E>gpj.exe', reason },
      { path: 'cats/in<U+2067>side', reason },
      { path: 'do<U+202D>gs', reason },
    ]);
  });

  it('refuses links into the state folder or into hidden folders (never hashes the live database)', async () => {
    await writeFileIn(root, '.keizoku/keizoku.db', 'live database');
    await writeFileIn(root, '.stash/s.jpg', 'x');
    await writeFileIn(root, 'cats/ok.jpg', 'x');
    await writeFileIn(root, 'cats/temp.jpg.part', 'x');
    await symlink('../.keizoku/keizoku.db', path.join(root, 'cats', 'db.jpg'));
    await symlink('../.keizoku', path.join(root, 'cats', 'state'));
    await symlink('.keizoku', path.join(root, 'state-class'));
    await symlink('../.stash/s.jpg', path.join(root, 'cats', 's.jpg'));
    await symlink('../.stash', path.join(root, 'cats', 'stash'));
    await symlink('temp.jpg.part', path.join(root, 'cats', 'temp.jpg'));
    const r = await scanProject(root);
    expect(r.classNames).toEqual(['cats']);
    expect(r.files.map((f) => f.relPath)).toEqual(['cats/ok.jpg']);
    expect(r.failed).toEqual([
      { path: '.stash', reason: 'hidden folder (names starting with a dot are skipped)' },
      { path: 'cats/db.jpg', reason: "link points into Keizoku's state folder" },
      { path: 'cats/s.jpg', reason: 'link points into a hidden folder' },
      { path: 'cats/stash', reason: 'link points into a hidden folder' },
      { path: 'cats/state', reason: "link points into Keizoku's state folder" },
      { path: 'cats/temp.jpg', reason: 'link points to a hidden or temporary file' },
      { path: 'state-class', reason: "link points into Keizoku's state folder" },
    ]);
  });

  it('knows a state folder given by its path, wherever it is inside the root', async () => {
    await writeFileIn(root, 'cats/ok.jpg', 'x');
    await writeFileIn(root, 'cats/state/keizoku.db', 'live database');
    await symlink('state/keizoku.db', path.join(root, 'cats', 'db.jpg'));
    const r = await scanProject(root, { stateDir: path.join(root, 'cats', 'state') });
    expect(r.classNames).toEqual(['cats']);
    expect(r.files.map((f) => f.relPath)).toEqual(['cats/ok.jpg']);
    expect(r.failed).toEqual([{ path: 'cats/db.jpg', reason: "link points into Keizoku's state folder" }]);
  });

  it('--state inside a class folder hides only the state folder, not the class (as syncSamples scans)', async () => {
    await writeFileIn(root, 'cats/ok.jpg', 'x');
    const project = Project.open({ root, stateDir: path.join(root, 'cats', 'state') });
    try {
      const r = await scanProject(root, { stateDirName: stateDirNameInside(project), stateDir: project.stateDir });
      expect(r.classNames).toEqual(['cats']);
      expect(r.files.map((f) => f.relPath)).toEqual(['cats/ok.jpg']);
      expect(r.failed).toEqual([]);
    } finally {
      project.close();
    }
  });

  it('lists hidden folders (except the state folder and system folders); hidden files stay silent', async () => {
    await writeFileIn(root, 'cats/ok.jpg', 'x');
    await writeFileIn(root, '.keizoku/keizoku.db', 'x');
    await writeFileIn(root, '.photos/a.jpg', 'x');
    await writeFileIn(root, 'cats/.more/b.jpg', 'x');
    await writeFileIn(root, 'cats/sub/.deeper/c.jpg', 'x');
    await writeFileIn(root, 'cats/.DS_Store', 'x');
    await writeFileIn(root, '.DS_Store', 'x');
    await writeFileIn(root, '.Trash-1000/files/x.jpg', 'x');
    await writeFileIn(root, '.Spotlight-V100/store', 'x');
    await writeFileIn(root, '.git/HEAD', 'x');
    await writeFileIn(root, 'cats/.AppleDouble/ok.jpg', 'x');
    const r = await scanProject(root);
    expect(r.classNames).toEqual(['cats']);
    expect(r.files.map((f) => f.relPath)).toEqual(['cats/ok.jpg']);
    const reason = 'hidden folder (names starting with a dot are skipped)';
    expect(r.failed).toEqual([
      { path: '.photos', reason },
      { path: 'cats/.more', reason },
      { path: 'cats/sub/.deeper', reason },
    ]);
  });

  it('throws when the root itself is missing or not a folder', async () => {
    await expect(scanProject(path.join(root, 'nope'))).rejects.toThrow(/ENOENT/);
    const file = await writeFileIn(root, 'f.txt', 'x');
    await expect(scanProject(file)).rejects.toThrow(/not a folder/);
  });

  it('is deterministic on a larger tree', async () => {
    for (let c = 0; c < 5; c++) for (let i = 0; i < 60; i++) await writeFileIn(root, `class${(c * 7) % 5}/sub${i % 3}/img${(i * 37) % 60}.jpg`, `${c}-${i}`);
    const a = await scanProject(root);
    const b = await scanProject(root);
    expect(a).toEqual(b);
    expect(a.files).toHaveLength(300);
    const rel = a.files.map((f) => f.relPath);
    expect([...rel].sort()).toEqual(rel);
  });
});
