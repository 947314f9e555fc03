/**
 * Names skipped silently by the scan and the watcher: hidden entries, OS metadata and the
 * temporary/partial files that editors, office suites, browsers and sync tools leave behind.
 */
const IGNORED_EXACT = new Set(['thumbs.db', 'desktop.ini', 'ehthumbs.db', 'icon\r']);
const IGNORED_SUFFIXES = ['.tmp', '.temp', '.part', '.partial', '.crdownload', '.download', '.swp', '.swx', '~'];

export function isIgnoredName(name: string): boolean {
  if (name.startsWith('.')) return true; // hidden, incl. .DS_Store, .keizoku, ._AppleDouble, .~lock
  if (name.startsWith('~$')) return true; // Office owner/lock files
  const lower = name.toLowerCase();
  if (IGNORED_EXACT.has(lower)) return true;
  for (const suffix of IGNORED_SUFFIXES) if (lower.endsWith(suffix)) return true;
  return false;
}

/**
 * Whether a path (posix, relative to the root) is ignored: any segment is an ignored name, or
 * the first segment is the state folder.
 */
export function isIgnoredRelPath(relPath: string, stateDirName: string): boolean {
  if (relPath === '' || relPath === '.') return false;
  const parts = relPath.split('/');
  if (parts[0] === stateDirName) return true;
  return parts.some(isIgnoredName);
}

export const HIDDEN_FOLDER_REASON = 'hidden folder (names starting with a dot are skipped)';

/**
 * Hidden folders that operating systems, sync tools and version control create on their own:
 * nobody puts photos there, so they are skipped without being listed.
 */
const SYSTEM_FOLDERS = new Set([
  '.trash', '.trashes', '.spotlight-v100', '.fseventsd', '.temporaryitems', '.documentrevisions-v100',
  '.appledouble', '.appledb', '.appledesktop', '.stfolder', '.stversions', '.sync', '.dropbox.cache',
  '.git', '.svn', '.hg', '.dvc', '.thumbnails', '.@__thumb',
]);

/**
 * Whether a folder with this name is skipped but worth listing: a hidden folder the user may
 * have made (or renamed) by mistake, not the state folder and not one the system keeps.
 */
export function isListedHiddenFolder(name: string, stateDirName: string): boolean {
  if (!name.startsWith('.') || name === stateDirName || name === '.' || name === '..') return false;
  const lower = name.toLowerCase();
  return !SYSTEM_FOLDERS.has(lower) && !lower.startsWith('.trash-'); // .Trash-1000: freedesktop per-user trash
}
