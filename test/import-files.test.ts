// Importing dropped files: every file of a batch gets its own answer, names that would break
// the project on another system are refused, and nothing is ever written into the state folder.
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importFiles, unusableNameReason } from '../main/engine/use-cases/import-files.js';
import { CALTECH_DIR } from './support/paths.js';
import { tempDir } from './support/project.js';

const photo = (nth = 0) => {
  const dir = path.join(CALTECH_DIR, 'train', 'ketch');
  return readFileSync(path.join(dir, readdirSync(dir).sort()[nth]!));
};

/** No reason may reveal where the project lives on disk. */
function expectNoAbsolutePaths(reasons: readonly string[], root: string) {
  for (const reason of reasons) {
    expect(reason).not.toContain(root);
    expect(reason).not.toMatch(/(^|\s)\/[^\s]/);
  }
}

describe('importFiles', () => {
  it('answers every file of a batch even when a class name is taken by a file, without absolute paths', async () => {
    const root = tempDir();
    writeFileSync(path.join(root, 'notes'), 'a file where a class folder would go');
    symlinkSync(path.join(root, 'missing-folder'), path.join(root, 'dangling'));
    const result = await importFiles(root, [
      { className: 'ketch', fileName: 'a.jpg', bytes: photo(0) },
      { className: 'notes', fileName: 'b.jpg', bytes: photo(1) },
      { className: 'dangling', fileName: 'c.jpg', bytes: photo(2) },
      { className: 'ketch', fileName: 'd.jpg', bytes: photo(3) },
    ]);
    expect(result.imported).toEqual(['ketch/a.jpg', 'ketch/d.jpg']);
    expect(result.rejected.map((entry) => entry.path)).toEqual(['notes/b.jpg', 'dangling/c.jpg']);
    expect(result.rejected[0]!.reason).toBe('a file named "notes" is in the way of the class folder');
    expect(result.rejected[1]!.reason).toBe('broken link (target does not exist)');
    expectNoAbsolutePaths(result.rejected.map((entry) => entry.reason), root);
    expect(readFileSync(path.join(root, 'notes'), 'utf8')).toBe('a file where a class folder would go');
    expect(existsSync(path.join(root, 'missing-folder'))).toBe(false);
  });

  it('refuses names Windows cannot hold and names with text-direction controls', async () => {
    const cases: Array<[string, RegExp]> = [
      ['aux.jpg', /reserved on Windows/],
      ['CON', /reserved on Windows/],
      ['nul.tar.gz', /reserved on Windows/],
      ['Com1.png', /reserved on Windows/],
      ['lpt9.jpg', /reserved on Windows/],
      ['photo.', /ends with a dot or a space/],
      ['photo.jpg ', /ends with a dot or a space/],
      ['a<b>.jpg', /character Windows does not allow/],
      ['what?.jpg', /character Windows does not allow/],
      ['c:d.jpg', /character Windows does not allow/],
      ['say "hi".jpg', /character Windows does not allow/],
      ['pipe|.jpg', /character Windows does not allow/],
      ['star*.jpg', /character Windows does not allow/],
      ['cat\u202Egpj.exe', /text-direction/],
      ['cat\u202Dx.jpg', /text-direction/],
      ['cat\u2066x\u2069.jpg', /text-direction/],
      ['cat\u200Fx.jpg', /text-direction/],
      ['cat\u061Cx.jpg', /text-direction/],
    ];
    for (const [name, reason] of cases) expect(unusableNameReason(name), JSON.stringify(name)).toMatch(reason);
    for (const fine of ['console.jpg', 'com10.jpg', 'auxiliary', 'lpt.jpg', 'Ünïcødé 猫.jpg', 'a.b.c.jpg', 'نمونه.jpg']) {
      expect(unusableNameReason(fine), fine).toBeNull();
    }

    const root = tempDir();
    const result = await importFiles(root, [
      { className: 'AUX', fileName: 'a.jpg', bytes: photo(0) },
      { className: 'ketch', fileName: 'cat\u202Egpj.exe', bytes: photo(1) },
      { className: 'ketch.', fileName: 'b.jpg', bytes: photo(2) },
      { className: 'ketch', fileName: 'ok.jpg', bytes: photo(3) },
    ]);
    expect(result.imported).toEqual(['ketch/ok.jpg']);
    expect(result.rejected.map((entry) => entry.reason)).toEqual([
      expect.stringMatching(/reserved on Windows/),
      expect.stringMatching(/text-direction/),
      expect.stringMatching(/ends with a dot or a space/),
    ]);
    // The answer itself must not be spoofable: the control character is shown, not obeyed.
    expect(result.rejected[1]!.path).toBe('ketch/cat<U+202E>gpj.exe');
    expect(readdirSync(root).sort()).toEqual(['ketch']);
    expect(readdirSync(path.join(root, 'ketch'))).toEqual(['ok.jpg']);
  });

  it('never writes through a class folder that links into the state folder or a hidden folder', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, '.keizoku'));
    mkdirSync(path.join(root, '.stash'));
    symlinkSync('.keizoku', path.join(root, 'state'));
    symlinkSync('.stash', path.join(root, 'stash'));
    const custom = path.join(root, 'keizoku-state');
    mkdirSync(custom);
    symlinkSync('keizoku-state', path.join(root, 'custom'));
    const result = await importFiles(
      root,
      [
        { className: 'state', fileName: 'a.jpg', bytes: photo(0) },
        { className: 'stash', fileName: 'b.jpg', bytes: photo(1) },
        { className: 'keizoku-state', fileName: 'c.jpg', bytes: photo(2) },
        { className: 'custom', fileName: 'd.jpg', bytes: photo(3) },
      ],
      { stateDir: custom },
    );
    expect(result.imported).toEqual([]);
    expect(result.rejected).toEqual([
      { path: 'state/a.jpg', reason: "link points into Keizoku's state folder" },
      { path: 'stash/b.jpg', reason: 'link points into a hidden folder' },
      { path: 'keizoku-state/c.jpg', reason: "that is Keizoku's state folder" },
      { path: 'custom/d.jpg', reason: "link points into Keizoku's state folder" },
    ]);
    expect(readdirSync(path.join(root, '.keizoku'))).toEqual([]);
    expect(readdirSync(path.join(root, '.stash'))).toEqual([]);
    expect(readdirSync(custom)).toEqual([]);
  });
});
