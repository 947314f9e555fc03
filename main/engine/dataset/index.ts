export type { ProjectFile, FileFailure } from './types.js';
export { DEFAULT_STATE_DIR_NAME } from './types.js';
export { scanProject, compareCodeUnits, type ScanResult } from './scan.js';
export { isIgnoredName, isIgnoredRelPath } from './ignore.js';
export { watchProjectFolder, type WatchEvent, type WatchOptions, type ProjectWatcher } from './watch.js';
export { AsyncQueue } from './queue.js';
