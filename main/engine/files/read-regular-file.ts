// Reading a file a user named, without ever blocking on it: a named pipe, a device or a
// socket under a photo's name must be refused, not opened and waited on forever (a FIFO's
// open() blocks until a writer appears, and it would hold a libuv thread while it waits).
import { constants as fsConstants, type Stats } from 'node:fs';
import fs from 'node:fs/promises';

export type ReadOutcome =
  | { ok: true; bytes: Buffer; stats: Stats }
  /** unreadable: open or read failed; not-regular: a folder or special file; too-large: over maxBytes */
  | { ok: false; problem: 'unreadable' | 'not-regular' | 'too-large'; reason: string };

/**
 * O_NONBLOCK makes open() return at once even for a FIFO without a writer; fstat on the
 * descriptor then says what was really opened, so there is no gap between check and use.
 * It changes nothing for regular files. (Windows has no FIFOs to block on, nor the flag.)
 */
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0);

/** Reads a whole regular file, refusing folders, special files and files over maxBytes. */
export async function readRegularFile(file: string, maxBytes: number, tooLarge: (size: number) => string = defaultTooLarge): Promise<ReadOutcome> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, OPEN_FLAGS);
  } catch (error) {
    return { ok: false, problem: 'unreadable', reason: readErrorReason(error) };
  }
  try {
    const stats = await handle.stat();
    const refused = notRegularReason(stats);
    if (refused) return { ok: false, problem: 'not-regular', reason: refused };
    if (stats.size > maxBytes) return { ok: false, problem: 'too-large', reason: tooLarge(stats.size) };
    const bytes = await handle.readFile();
    if (bytes.length > maxBytes) return { ok: false, problem: 'too-large', reason: tooLarge(bytes.length) };
    return { ok: true, bytes, stats };
  } catch (error) {
    return { ok: false, problem: 'unreadable', reason: readErrorReason(error) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Why a path that must be a regular file is not one, checked without opening it; null when it is one. */
export async function regularFileProblem(file: string): Promise<string | null> {
  try {
    return notRegularReason(await fs.stat(file));
  } catch (error) {
    return readErrorReason(error);
  }
}

function notRegularReason(stats: Stats): string | null {
  if (stats.isFile()) return null;
  if (stats.isDirectory()) return 'is a folder, not a file';
  if (stats.isFIFO()) return 'not a regular file (named pipe)';
  if (stats.isSocket()) return 'not a regular file (socket)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'not a regular file (device)';
  return 'not a regular file';
}

function defaultTooLarge(size: number): string {
  return `file too large (${(size / 1024 / 1024).toFixed(1)} MB)`;
}

export function readErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'file disappeared before it could be read';
    case 'EACCES':
    case 'EPERM':
      return 'cannot read file: permission denied';
    case 'EISDIR':
      return 'is a folder, not a file';
    case 'ELOOP':
      return 'symlink loop';
    case 'ENXIO':
      return 'not a regular file (socket or device without a reader)';
    case 'EIO':
      return 'cannot read file: I/O error';
    default:
      return `cannot read file: ${code ?? (error instanceof Error ? error.message : String(error))}`;
  }
}
