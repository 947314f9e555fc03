import path from 'node:path';
import { isIgnoredName } from './ignore.js';
import { DEFAULT_STATE_DIR_NAME } from './types.js';

/** Where Keizoku keeps its state: the folder's name in the root, and its real path when known. */
export interface StateLocation {
  name: string;
  realPath?: string;
}

export const STATE_LINK_REASON = "link points into Keizoku's state folder";

export function isInside(realParent: string, real: string): boolean {
  if (real === realParent) return true;
  const prefix = realParent.endsWith(path.sep) ? realParent : realParent + path.sep;
  return real.startsWith(prefix);
}

/**
 * Why a link (or a class folder reached through one) must not be followed, given where it
 * really leads; null when its target is an ordinary place in the project. Following a link
 * into the state folder would hash (and learn from) the live database, and one into a hidden
 * folder would bring in what the scan deliberately skips.
 */
export function linkTargetReason(realRoot: string, realTarget: string, targetIsFolder: boolean, state: StateLocation): string | null {
  if (!isInside(realRoot, realTarget)) return 'link points outside the project folder';
  if (state.realPath !== undefined && isInside(state.realPath, realTarget)) return STATE_LINK_REASON;
  const parts = path.relative(realRoot, realTarget).split(path.sep).filter((part) => part !== '');
  if (parts.length === 0) return null;
  if (parts[0] === state.name || parts[0] === DEFAULT_STATE_DIR_NAME) return STATE_LINK_REASON;
  const folders = targetIsFolder ? parts : parts.slice(0, -1);
  if (folders.some((part) => part.startsWith('.'))) return 'link points into a hidden folder';
  if (folders.some(isIgnoredName)) return 'link points into a temporary folder';
  if (!targetIsFolder && isIgnoredName(parts[parts.length - 1]!)) return 'link points to a hidden or temporary file';
  return null;
}
