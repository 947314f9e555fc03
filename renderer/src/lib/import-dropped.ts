import type { ImportResult } from '../../../main/engine/api/app-api.js';
import { call } from './bridge.js';
import { t } from './i18n/locale.svelte.js';
import { fileToBase64, type DroppedFile } from './read-files.js';

const BATCH_BYTES = 24 * 1024 * 1024;

/** Sends dropped files to the engine in batches of a few MB; loose files go into `fallbackClass`. */
export async function importDropped(files: DroppedFile[], fallbackClass: string): Promise<ImportResult> {
  const total: ImportResult = { imported: [], rejected: [] };
  let batch: Array<{ className: string; fileName: string; dataBase64: string }> = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const result = await call('importFiles', { files: batch });
    total.imported.push(...result.imported);
    total.rejected.push(...result.rejected);
    batch = [];
    batchBytes = 0;
  };
  for (const { folder, file } of files) {
    const className = folder ?? fallbackClass;
    if (file.size > 25 * 1024 * 1024) {
      total.rejected.push({ path: `${className}/${file.name}`, reason: t('notice.tooLarge') });
      continue;
    }
    if (batchBytes + file.size > BATCH_BYTES) await flush();
    batch.push({ className, fileName: file.name, dataBase64: await fileToBase64(file) });
    batchBytes += file.size;
  }
  await flush();
  return total;
}
