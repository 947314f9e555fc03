import { rename, writeFile } from 'node:fs/promises';

/** Writes to a partial file, then renames it into place: readers see the old file or the whole new one, never a torn one. */
export async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, data);
  await rename(partial, file);
}
