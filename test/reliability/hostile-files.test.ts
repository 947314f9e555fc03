// Hostile and odd files: every one is learned or listed with its own reason, nothing hangs on
// a special file, and Keizoku never changes, moves or deletes a file of the user's — nor
// overwrites one on export.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorResultSchema, ExportResultSchema, PredictResultSchema, UpdateResultSchema } from '../../main/engine/api/contract.js';
import { startServe } from '../support/browser.js';
import { pngBomb, SVG_TEXT, truncated } from '../support/fixtures.js';
import { addCaltechClasses, runCli, tempDir } from '../support/project.js';
import { drill } from './support/drill-log.js';
import { photo } from './support/state.js';

/** Each kind of bad entry: how to make it in a project, and the reason the update must give. */
interface BadEntry {
  kind: string;
  path: string;
  reason: RegExp;
  /** null when it was made; else why this machine cannot make it */
  make(root: string): Promise<string | null> | string | null;
}

const sockets: Array<{ close(): void }> = [];

const ZOO: BadEntry[] = [
  { kind: 'named pipe', path: 'ketch/pipe.jpg', reason: /named pipe/, make: (root) => mkfifo(path.join(root, 'ketch', 'pipe.jpg')) },
  {
    kind: 'socket',
    path: 'ketch/socket.jpg',
    reason: /socket/,
    make: async (root) => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(path.join(root, 'ketch', 'socket.jpg'), resolve));
      sockets.push(server);
      return null;
    },
  },
  {
    kind: 'device node',
    path: 'ketch/zero.jpg',
    reason: /device/,
    make: (root) => {
      const made = spawnSync('mknod', [path.join(root, 'ketch', 'zero.jpg'), 'c', '1', '5']);
      return made.status === 0 ? null : `mknod needs root (${made.stderr.toString().trim()})`;
    },
  },
  { kind: 'link out of the project', path: 'ketch/outside.jpg', reason: /outside the project/, make: (root) => link(photo('ketch', 20), path.join(root, 'ketch', 'outside.jpg')) },
  { kind: 'link to the live database', path: 'ketch/db.jpg', reason: /state folder/, make: (root) => link('../.keizoku/keizoku.db', path.join(root, 'ketch', 'db.jpg')) },
  { kind: 'link to the state folder', path: 'ketch/state', reason: /state folder/, make: (root) => link('../.keizoku', path.join(root, 'ketch', 'state')) },
  { kind: 'dangling link', path: 'ketch/gone.jpg', reason: /broken link/, make: (root) => link('nowhere.jpg', path.join(root, 'ketch', 'gone.jpg')) },
  { kind: 'link loop', path: 'ketch/loop-a.jpg', reason: /loop/, make: (root) => (link('loop-b.jpg', path.join(root, 'ketch', 'loop-a.jpg')), link('loop-a.jpg', path.join(root, 'ketch', 'loop-b.jpg'))) },
  { kind: 'decompression bomb', path: 'ketch/bomb.png', reason: /too large|pixel|limit/i, make: (root) => write(root, 'ketch/bomb.png', pngBomb()) },
  { kind: 'truncated JPEG', path: 'ketch/cut.jpg', reason: /truncated|corrupt/i, make: (root) => write(root, 'ketch/cut.jpg', truncated(readFileSync(photo('ketch', 21)))) },
  { kind: 'empty file', path: 'ketch/empty.jpg', reason: /empty/, make: (root) => write(root, 'ketch/empty.jpg', '') },
  { kind: 'text named .jpg', path: 'ketch/notes.jpg', reason: /not an image/, make: (root) => write(root, 'ketch/notes.jpg', 'shopping list') },
  { kind: 'SVG', path: 'ketch/drawing.svg', reason: /svg/i, make: (root) => write(root, 'ketch/drawing.svg', SVG_TEXT) },
  { kind: 'PDF', path: 'ketch/scan.jpg', reason: /pdf/i, make: (root) => write(root, 'ketch/scan.jpg', '%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n') },
  {
    kind: 'HEIC',
    path: 'ketch/phone.heic',
    reason: /heic/i,
    make: (root) => write(root, 'ketch/phone.heic', Buffer.from([0, 0, 0, 0x18, ...Buffer.from('ftypheic'), 0, 0, 0, 0, ...Buffer.from('mif1heic')])),
  },
  {
    kind: '300 MB sparse file',
    path: 'ketch/huge.jpg',
    reason: /too large/,
    make: (root) => {
      write(root, 'ketch/huge.jpg', readFileSync(photo('ketch', 22)));
      truncateSync(path.join(root, 'ketch', 'huge.jpg'), 300 * 1024 * 1024); // sparse: costs no disk
      return null;
    },
  },
  {
    kind: 'name not valid UTF-8',
    path: 'ketch/\uFFFD\uFFFD.jpg',
    reason: /not valid UTF-8/,
    make: (root) => (writeFileSync(Buffer.concat([Buffer.from(path.join(root, 'ketch') + '/'), Buffer.from([0xff, 0xfe]), Buffer.from('.jpg')]), readFileSync(photo('ketch', 23))), null),
  },
  { kind: 'bidi-override name', path: 'ketch/cat<U+202E>gpj.exe', reason: /direction/, make: (root) => write(root, 'ketch/cat\u202Egpj.exe', readFileSync(photo('ketch', 24))) },
  { kind: 'hidden folder', path: 'ketch/.more', reason: /hidden folder/, make: (root) => (mkdirSync(path.join(root, 'ketch', '.more')), write(root, 'ketch/.more/a.jpg', readFileSync(photo('ketch', 25)))) },
  { kind: 'file in the root', path: 'loose.jpg', reason: /not inside a class folder/, make: (root) => write(root, 'loose.jpg', readFileSync(photo('ketch', 26))) },
];

function mkfifo(file: string): string | null {
  const made = spawnSync('mkfifo', [file]);
  return made.status === 0 ? null : `mkfifo failed (${made.stderr.toString().trim()})`;
}
function link(target: string, at: string): null {
  symlinkSync(target, at);
  return null;
}
function write(root: string, relPath: string, data: string | Uint8Array): null {
  writeFileSync(path.join(root, relPath), data);
  return null;
}

/** Every regular file under root (links not followed) with its sha256: the user's files, to prove they are untouched. */
function fingerprint(root: string): Map<string, string> {
  const out = new Map<string, string>();
  // Paths as bytes, so a name that is not UTF-8 is walked and compared exactly.
  const walk = (dir: Buffer) => {
    for (const name of readdirSync(dir, { encoding: 'buffer' })) {
      if (dir.equals(Buffer.from(root)) && name.toString() === '.keizoku') continue;
      const full = Buffer.concat([dir, Buffer.from('/'), name]);
      const stats = lstatSync(full);
      if (stats.isDirectory()) walk(full);
      else if (stats.isFile()) out.set(full.toString('hex'), createHash('sha256').update(readFileSync(full)).digest('hex'));
    }
  };
  walk(Buffer.from(root));
  return out;
}

describe('hostile files', () => {
  it(`a zoo of ${ZOO.length} kinds of bad entries: each is listed with its reason, the photos are learned, no user file changes`, async () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 8 });
    mkdirSync(path.join(root, '.keizoku'));
    writeFileSync(path.join(root, '.keizoku', 'keizoku.db'), ''); // so the links into it resolve from the start
    const made: BadEntry[] = [];
    const unavailable: string[] = [];
    try {
      for (const entry of ZOO) {
        const skipped = await entry.make(root);
        if (skipped) unavailable.push(`${entry.kind}: ${skipped}`);
        else made.push(entry);
      }
      const before = fingerprint(root);
      const run = runCli(['update', '--root', root, '--json']);
      expect(run.status, run.stderr).toBe(0);
      const result = UpdateResultSchema.parse(run.json());
      const reasons = new Map(result.failed.map((failure) => [failure.path, failure.reason]));
      await drill(
        'bad-file zoo: each kind listed with its reason',
        made,
        (entry) => {
          expect(reasons.get(entry.path), `${entry.kind} (${entry.path}) among ${[...reasons.keys()].join(', ')}`).toMatch(entry.reason);
        },
        () => (unavailable.length ? `not made here: ${unavailable.join('; ')}` : `${made.length} kinds`),
      );
      expect(made.length).toBeGreaterThanOrEqual(15);
      expect(result.status).toBe('committed');
      expect(result.samples.train + result.samples.heldOut).toBe(16); // the 16 photos, nothing else
      expect(fingerprint(root)).toEqual(before); // no user file changed, moved or deleted
    } finally {
      for (const socket of sockets.splice(0)) socket.close();
    }
  });

  it('special files never hang anything: predict of a FIFO, a FIFO as backbone, thumbnails of a FIFO in serve', async () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 6 });
    expect(runCli(['update', '--root', root, '--json']).status).toBe(0);
    mkfifo(path.join(root, 'ketch', 'pipe.jpg'));
    const outsidePipe = path.join(tempDir(), 'model.onnx');
    mkfifo(outsidePipe);
    const server = await startServe(['--root', root]);
    try {
      await drill('special files never block', ['predict a FIFO', 'FIFO as backbone', '6 thumbnails of a FIFO, then overview'] as const, async (what) => {
        if (what === 'predict a FIFO') {
          const run = runCli(['predict', '--root', root, '--json', path.join(root, 'ketch', 'pipe.jpg'), photo('ketch', 0, 'test')]);
          expect(run.status, run.stderr).toBe(0);
          const result = PredictResultSchema.parse(run.json());
          expect(result.failed[0]!.reason).toMatch(/named pipe/);
          expect(result.predictions).toHaveLength(1);
        } else if (what === 'FIFO as backbone') {
          const run = runCli(['update', '--root', tempDir(), '--backbone', outsidePipe, '--json']);
          expect(run.status).toBe(1);
          expect(ErrorResultSchema.parse(run.json()).error).toMatchObject({ code: 'backbone-unavailable', message: expect.stringMatching(/named pipe/) });
        } else {
          // More calls than libuv has threads (4): a blocking open would starve every later request.
          const call = (method: string, body: object) =>
            fetch(new URL(`api/${method}`, server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
          const thumbnails = await Promise.all(Array.from({ length: 6 }, () => call('thumbnail', { path: 'ketch/pipe.jpg' })));
          for (const answer of thumbnails) {
            expect(answer.status).toBe(400);
            expect(((await answer.json()) as { error: { message: string } }).error.message).toMatch(/named pipe/);
          }
          const overview = await call('overview', {});
          expect(overview.status).toBe(200);
        }
      });
    } finally {
      await server.stop();
    }
  });

  it('export never overwrites a file it did not write, nor writes into the project, unless --force says so', async () => {
    const root = tempDir();
    addCaltechClasses(root, ['airplanes', 'ketch'], { limit: 6 });
    expect(runCli(['update', '--root', root, '--json']).status).toBe(0);
    const exportTo = (out: string, ...flags: string[]) => runCli(['export', '--root', root, '--out', out, '--json', ...flags]);

    await drill('export refuses to overwrite or to write into the project', ['foreign labels.json', 'foreign model', 'class folder', 'project root', 'its own files', '--force'] as const, (what) => {
      const dir = tempDir();
      const model = path.join(dir, 'model.onnx');
      const labels = path.join(dir, 'labels.json');
      if (what === 'foreign labels.json' || what === 'foreign model' || what === '--force') {
        const victim = what === 'foreign model' ? model : labels;
        writeFileSync(victim, 'the user wrote this');
        const run = exportTo(model, ...(what === '--force' ? ['--force'] : []));
        if (what === '--force') {
          expect(run.status, run.stderr).toBe(0);
          expect(JSON.parse(readFileSync(labels, 'utf8')).format).toBe('keizoku-labels/1');
          return;
        }
        expect(run.status).toBe(2);
        expect(ErrorResultSchema.parse(run.json()).error.message).toMatch(/not written by Keizoku.*--force/);
        expect(readFileSync(victim, 'utf8')).toBe('the user wrote this');
        expect(readdirSync(dir)).toEqual([path.basename(victim)]); // nothing else was written either
      } else if (what === 'class folder' || what === 'project root') {
        const inside = what === 'class folder' ? path.join(root, 'ketch', 'model.onnx') : path.join(root, 'model.onnx');
        const run = exportTo(inside);
        expect(run.status).toBe(2);
        expect(ErrorResultSchema.parse(run.json()).error.message).toMatch(/inside the project/);
        expect(existsSync(inside)).toBe(false);
      } else {
        expect(exportTo(model).status).toBe(0);
        const again = exportTo(model); // replacing its own export needs no --force
        expect(again.status, again.stderr).toBe(0);
        expect(ExportResultSchema.parse(again.json()).out).toBe(model);
      }
    });
    // The state folder is Keizoku's own: the app exports there.
    expect(exportTo(path.join(root, '.keizoku', 'exports', 'mine', 'model.onnx')).status).toBe(0);
  });
});
