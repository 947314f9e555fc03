/**
 * Short human reasons for filesystem errors. A reason is shown to the user next to a relative
 * path, so it never repeats the error's message (which carries the absolute path).
 */

function codeOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Why a file, folder or link could not be read. */
export function fsErrorReason(error: unknown, what: 'file' | 'folder' | 'link'): string {
  const code = codeOf(error);
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return what === 'folder' ? 'cannot read folder: permission denied' : 'cannot read file: permission denied';
    case 'ENOENT':
      return what === 'link' ? 'broken link (target does not exist)' : `${what} disappeared during the scan`;
    case 'ELOOP':
      return 'symlink loop';
    case 'ENOTDIR':
      return 'broken link (a parent of the target is not a folder)';
    case 'EIO':
      return `cannot read ${what}: I/O error`;
    case 'ENAMETOOLONG':
      return 'path too long';
    default:
      return `cannot read ${what}: ${code ?? 'unexpected error'}`;
  }
}

/** Why a file could not be written into a class folder (import). */
export function fsWriteErrorReason(error: unknown): string {
  const code = codeOf(error);
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'cannot write: permission denied';
    case 'EROFS':
      return 'cannot write: the project folder is read-only';
    case 'ENOSPC':
      return 'cannot write: the disk is full';
    case 'EDQUOT':
      return 'cannot write: disk quota exceeded';
    case 'ENAMETOOLONG':
      return 'path too long';
    case 'ELOOP':
      return 'symlink loop';
    case 'ENOENT':
      return 'broken link (target does not exist)';
    case 'ENOTDIR':
      return 'broken link (a parent of the target is not a folder)';
    case 'EIO':
      return 'cannot write: I/O error';
    default:
      return `cannot write: ${code ?? 'unexpected error'}`;
  }
}
