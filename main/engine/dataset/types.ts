/** A candidate sample: a regular file somewhere below a class folder. */
export interface ProjectFile {
  absPath: string;
  /** Posix, relative to the project root (the path as the user sees it, links not resolved). */
  relPath: string;
  className: string;
  size: number;
  mtimeMs: number;
}

export interface FileFailure {
  /** relPath when inside the root, else the absolute path. */
  path: string;
  reason: string;
}

export const DEFAULT_STATE_DIR_NAME = '.keizoku';
