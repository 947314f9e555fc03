import type { PredictResult } from '../../../main/engine/api/contract.js';
import { call } from './bridge.js';
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
 * Classifies every file of a folder the user picked (the browser hands us the files; the
 * engine never reads outside the project). A file in a subfolder named after a class counts
 * towards accuracy.
 */
export async function runOnFolder(files: File[], classNames: readonly string[], onProgress: (done: number, total: number) => void): Promise<FolderRow[]> {
  const known = new Set(classNames);
  const rows: FolderRow[] = [];
  for (let start = 0; start < files.length; start += PER_CALL) {
    const batch = files.slice(start, start + PER_CALL);
    const names = batch.map((file, index) => `${start + index}:${file.webkitRelativePath || file.name}`);
    const result: PredictResult = await call('predictImages', {
      images: await Promise.all(batch.map(async (file, index) => ({ name: names[index]!, dataBase64: await fileToBase64(file) }))),
      top: 1,
    });
    const predictions = new Map(result.predictions.map((entry) => [entry.path, entry.top[0]]));
    const failures = new Map(result.failed.map((entry) => [entry.path, entry.reason]));
    batch.forEach((file, index) => {
      const relative = file.webkitRelativePath || file.name;
      const parts = relative.split('/');
      const folder = parts.length >= 3 ? parts[parts.length - 2]! : null;
      const top = predictions.get(names[index]!);
      rows.push({
        file: relative,
        expected: folder !== null && known.has(folder) ? folder : null,
        predicted: top?.className ?? null,
        score: top?.score ?? null,
        reason: top ? null : (failures.get(names[index]!) ?? 'not usable'),
      });
    });
    onProgress(Math.min(files.length, start + PER_CALL), files.length);
  }
  return rows;
}
