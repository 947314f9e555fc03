import type { PredictResult } from '../../../main/engine/api/contract.js';
import { call } from './bridge.js';
import { t } from './i18n/locale.svelte.js';
import { fileToBase64 } from './read-files.js';

export interface FolderRow {
  file: string;
  /** the subfolder's name when it names a known class: the expected answer */
  expected: string | null;
  predicted: string | null;
  score: number | null;
  reason: string | null;
}

const PER_CALL = 16;
/**
 * Raw bytes per call (base64 makes ~32 MB of them): sixteen phone photos would overrun the
 * server's 120 MB request limit, and a call this size leaves room in its shared body budget.
 */
const BYTES_PER_CALL = 24 * 1024 * 1024;
/** The engine's limit for one image; a larger one would fail its whole call. */
const MAX_FILE_BYTES = 25 * 1024 * 1024;

/** Consecutive runs of at most PER_CALL files and BYTES_PER_CALL bytes (a larger file alone). */
function batches(files: File[]): Array<{ start: number; files: File[] }> {
  const out: Array<{ start: number; files: File[] }> = [];
  let current: { start: number; files: File[] } | null = null;
  let bytes = 0;
  files.forEach((file, index) => {
    if (!current || current.files.length >= PER_CALL || bytes + file.size > BYTES_PER_CALL) {
      current = { start: index, files: [] };
      out.push(current);
      bytes = 0;
    }
    current.files.push(file);
    bytes += file.size;
  });
  return out;
}

/**
 * Classifies every file of a folder the user picked (the browser hands us the files; the
 * engine never reads outside the project). A file in a subfolder named after a class counts
 * towards accuracy.
 */
export async function runOnFolder(files: File[], classNames: readonly string[], onProgress: (done: number, total: number) => void): Promise<FolderRow[]> {
  const known = new Set(classNames);
  const row = (file: File, top: { className: string; score: number } | undefined, reason: string | null): FolderRow => {
    const relative = file.webkitRelativePath || file.name;
    const parts = relative.split('/');
    const folder = parts.length >= 3 ? parts[parts.length - 2]! : null;
    return { file: relative, expected: folder !== null && known.has(folder) ? folder : null, predicted: top?.className ?? null, score: top?.score ?? null, reason };
  };
  const rows: FolderRow[] = files.filter((file) => file.size > MAX_FILE_BYTES).map((file) => row(file, undefined, t('notice.tooLarge')));
  let done = rows.length;
  for (const { start, files: batch } of batches(files.filter((file) => file.size <= MAX_FILE_BYTES))) {
    const names = batch.map((file, index) => `${start + index}:${file.webkitRelativePath || file.name}`);
    const result: PredictResult = await call('predictImages', {
      images: await Promise.all(batch.map(async (file, index) => ({ name: names[index]!, dataBase64: await fileToBase64(file) }))),
      top: 1,
    });
    const predictions = new Map(result.predictions.map((entry) => [entry.path, entry.top[0]]));
    const failures = new Map(result.failed.map((entry) => [entry.path, entry.reason]));
    batch.forEach((file, index) => {
      const top = predictions.get(names[index]!);
      rows.push(row(file, top, top ? null : (failures.get(names[index]!) ?? t('notice.notUsable'))));
    });
    done += batch.length;
    onProgress(done, files.length);
  }
  return rows;
}
