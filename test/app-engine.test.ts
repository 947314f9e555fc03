// Engine pieces the app needs: the class overview, copying dropped files in, and serving
// thumbnails only for files inside the project. Real folders, SQLite and ONNX Runtime.
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importFiles, unusableNameReason } from '../main/engine/use-cases/import-files.js';
import { projectOverview } from '../main/engine/use-cases/overview.js';
import { Project } from '../main/engine/project/project.js';
import { resolveSampleFile } from '../main/engine/project/project-paths.js';
import { sampleThumbnail } from '../main/engine/use-cases/thumbnail.js';
import { runUpdate } from '../main/engine/use-cases/update.js';
import { SVG_TEXT, truncated } from './support/fixtures.js';
import { CALTECH_DIR, CORAL_DIR } from './support/paths.js';
import { addCaltechClasses, TEST_CACHE_DIR, tempDir } from './support/project.js';

const open = (root: string) => Project.open({ root, modelDir: CORAL_DIR, cacheDir: TEST_CACHE_DIR, device: 'cpu' });
const photoBytes = (className: string, nth = 0) => {
  const dir = path.join(CALTECH_DIR, 'train', className);
  return readFileSync(path.join(dir, readdirSync(dir).sort()[nth]!));
};

describe('project overview', () => {
  it('lists classes with counts and thumbnails, what is new since the last update, and unusable files with reasons', async () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 6 });
    writeFileSync(path.join(root, 'ketch', 'broken.jpg'), truncated(photoBytes('ketch', 20)));
    writeFileSync(path.join(root, 'stray.jpg'), photoBytes('ketch', 21));

    let project = open(root);
    try {
      const before = await projectOverview(project);
      expect(before.head).toBeNull();
      expect(before.classes.map((card) => [card.name, card.status, card.files])).toEqual([
        ['airplanes', 'new', 6],
        ['ketch', 'new', 7], // the broken file is not judged until it is decoded
      ]);
      expect(before.classes[0]!.thumbnails).toEqual([]); // nothing decoded yet
      expect(before.totals.newSinceUpdate).toBe(13);
      expect(before.hasChanges).toBe(true);
      expect(before.failed).toContainEqual({ path: 'stray.jpg', reason: 'not inside a class folder' });

      await runUpdate(project);
      const after = await projectOverview(project);
      expect(after.head?.id).toBe(1);
      expect(after.classes.map((card) => [card.name, card.status, card.files, card.ready, card.newSinceUpdate, card.failed])).toEqual([
        ['airplanes', 'learned', 6, 6, 0, 0],
        ['ketch', 'learned', 6, 6, 0, 1],
      ]);
      expect(after.failed.find((entry) => entry.path === 'ketch/broken.jpg')?.reason).toMatch(/truncated|corrupt/i);
      expect(after.classes[0]!.thumbnails).toHaveLength(4);
      expect(after.classes[1]!.thumbnails).not.toContain('ketch/broken.jpg');
      expect(after.hasChanges).toBe(false);
    } finally {
      project.close();
    }

    // A new photo, a new class and a removed class all count as changes.
    writeFileSync(path.join(root, 'airplanes', 'more.jpg'), photoBytes('airplanes', 25));
    addCaltechClasses(root, ['bonsai'], { limit: 3 });
    rmSync(path.join(root, 'ketch'), { recursive: true });
    project = open(root);
    try {
      const changed = await projectOverview(project);
      const byName = Object.fromEntries(changed.classes.map((card) => [card.name, card]));
      expect(byName.airplanes!.newSinceUpdate).toBe(1);
      expect(byName.bonsai!.status).toBe('new');
      expect(byName.ketch!.status).toBe('removed');
      expect(changed.hasChanges).toBe(true);
    } finally {
      project.close();
    }
  });
});

describe('importing dropped files', () => {
  it('copies photos into class folders, never overwrites, and refuses bad names and non-images with a reason', async () => {
    const root = tempDir();
    const photo = photoBytes('airplanes');
    const first = await importFiles(root, [
      { className: 'planes', fileName: 'a.jpg', bytes: photo },
      { className: 'planes', fileName: 'a.jpg', bytes: photoBytes('airplanes', 1) },
      { className: '..', fileName: 'x.jpg', bytes: photo },
      { className: 'planes', fileName: '../../escape.jpg', bytes: photo },
      { className: '.keizoku', fileName: 'x.jpg', bytes: photo },
      { className: 'planes', fileName: 'notes.jpg', bytes: Buffer.from('hello') },
      { className: 'planes', fileName: 'drawing.svg', bytes: Buffer.from(SVG_TEXT) },
      { className: 'planes', fileName: 'empty.jpg', bytes: new Uint8Array() },
    ]);
    expect(first.imported).toEqual(['planes/a.jpg', 'planes/a (2).jpg']);
    const reasons = Object.fromEntries(first.rejected.map((entry) => [entry.path, entry.reason]));
    expect(reasons['../x.jpg']).toMatch(/separator/);
    expect(reasons['planes/../../escape.jpg']).toMatch(/separator/);
    expect(reasons['.keizoku/x.jpg']).toMatch(/hidden/);
    expect(reasons['planes/notes.jpg']).toMatch(/not an image/);
    expect(reasons['planes/drawing.svg']).toMatch(/svg/);
    expect(reasons['planes/empty.jpg']).toMatch(/empty/);
    // the originals are intact, nothing escaped, no temporary files left behind
    expect(readFileSync(path.join(root, 'planes', 'a.jpg')).equals(photo)).toBe(true);
    expect(readdirSync(path.join(root, 'planes')).sort()).toEqual(['a (2).jpg', 'a.jpg']);
    expect(existsSync(path.join(path.dirname(root), 'escape.jpg'))).toBe(false);
    expect(unusableNameReason('cats')).toBeNull();
  });

  it('refuses a class folder that links outside the project', async () => {
    const root = tempDir();
    const outside = tempDir();
    symlinkSync(outside, path.join(root, 'linked'));
    const result = await importFiles(root, [{ className: 'linked', fileName: 'a.jpg', bytes: photoBytes('ketch') }]);
    expect(result.imported).toEqual([]);
    expect(result.rejected[0]?.reason).toMatch(/outside/);
    expect(readdirSync(outside)).toEqual([]);
  });
});

describe('thumbnails', () => {
  it('serves a small WebP for a sample and refuses anything outside the class folders', async () => {
    const root = tempDir();
    addCaltechClasses(root, ['ketch'], { limit: 1 });
    const [name] = readdirSync(path.join(root, 'ketch'));
    const thumbnail = await sampleThumbnail(root, `ketch/${name}`);
    expect(thumbnail).toMatch(/^data:image\/webp;base64,/);
    expect(Buffer.from(thumbnail.split(',')[1]!, 'base64').subarray(8, 12).toString('latin1')).toBe('WEBP');

    const outside = tempDir();
    writeFileSync(path.join(outside, 'secret.jpg'), photoBytes('ketch', 3));
    symlinkSync(path.join(outside, 'secret.jpg'), path.join(root, 'ketch', 'link.jpg'));
    symlinkSync(outside, path.join(root, 'ketch', 'dir-link'));
    mkdirSync(path.join(root, '.keizoku'), { recursive: true });
    writeFileSync(path.join(root, '.keizoku', 'keizoku.db'), 'x');
    for (const bad of ['../secret.jpg', `${outside}/secret.jpg`, 'ketch/link.jpg', 'ketch/dir-link/secret.jpg', '.keizoku/keizoku.db', 'ketch/../../x', 'ketch', 'ketch/missing.jpg']) {
      expect(() => resolveSampleFile(root, bad), bad).toThrow();
    }
    await expect(sampleThumbnail(root, 'ketch/link.jpg')).rejects.toThrow(/outside/);
    // A --state folder inside a class folder, and links into it, are no samples either.
    const state = path.join(root, 'ketch', 'state');
    mkdirSync(state);
    writeFileSync(path.join(state, 'keizoku.db'), photoBytes('ketch', 4));
    symlinkSync(path.join(state, 'keizoku.db'), path.join(root, 'ketch', 'db.jpg'));
    for (const bad of ['ketch/state/keizoku.db', 'ketch/db.jpg']) expect(() => resolveSampleFile(root, bad, state), bad).toThrow(/not a sample/);
    expect(resolveSampleFile(root, 'ketch/db.jpg')).toBe(path.join(realpathSync(state), 'keizoku.db')); // without the state folder known, it would be served
  });
});
