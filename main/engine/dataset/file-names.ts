/**
 * Rules about names: what the project can hold (import refuses more than the scan, because
 * files already on disk are the user's) and how a name is shown without being able to lie.
 */

/** Overrides (U+202A–U+202E) and isolates (U+2066–U+2069): they reorder how a name displays. */
const DIRECTION_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/;
/** Marks (LRM, RLM, ALM) are weaker, but still invisible: new names may not carry them either. */
const DIRECTION_CONTROLS_AND_MARKS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/;
const DIRECTION_CONTROLS_AND_MARKS_GLOBAL = new RegExp(DIRECTION_CONTROLS_AND_MARKS.source, 'g');

/** Device names Windows reserves, with or without an extension ("aux.jpg"), in any case. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
const WINDOWS_FORBIDDEN_CHARACTERS = /[<>:"|?*]/;

export const DIRECTION_CONTROL_REASON = 'name contains text-direction control characters that disguise it: rename it';
export const NOT_UTF8_FILE_REASON = 'file name is not valid UTF-8: rename it';
export const NOT_UTF8_FOLDER_REASON = 'folder name is not valid UTF-8: rename it';

/** A directory entry's name as a string, and whether those bytes were valid UTF-8 (lossless). */
export function decodeName(raw: Buffer): { name: string; valid: boolean } {
  const name = raw.toString('utf8');
  // Invalid sequences decode to U+FFFD, so the string no longer names the file: check the round trip.
  return { name, valid: Buffer.from(name, 'utf8').equals(raw) };
}

/** Whether a name (or path) carries a character that reverses or isolates text direction. */
export function hasDirectionControl(name: string): boolean {
  return DIRECTION_CONTROLS.test(name);
}

/** A path for display: text-direction characters appear as <U+202E> instead of acting. */
export function showPath(name: string): string {
  return name.replace(DIRECTION_CONTROLS_AND_MARKS_GLOBAL, (c) => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`);
}

/**
 * Why a new name would not survive the project being synced to or opened on Windows, or would
 * display as something it is not; null when it is fine. (The project folder travels.)
 */
export function portableNameReason(name: string): string | null {
  if (WINDOWS_RESERVED.test(name)) return 'name is reserved on Windows (CON, PRN, AUX, NUL, COM1–9, LPT1–9)';
  if (/[. ]$/.test(name)) return 'name ends with a dot or a space (Windows drops them)';
  if (WINDOWS_FORBIDDEN_CHARACTERS.test(name)) return 'name contains a character Windows does not allow (< > : " | ? *)';
  if (DIRECTION_CONTROLS_AND_MARKS.test(name)) return 'name contains invisible text-direction characters that disguise it';
  return null;
}
