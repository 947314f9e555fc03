// Turning what the user dropped, pasted or picked into named bytes for the API.

export interface DroppedFile {
  /** the class folder it goes into: the dropped folder's name, or null for loose files */
  folder: string | null;
  file: File;
}

export async function fileToBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}

/** Files and folders from a drop: a dropped folder becomes a class named after it (its subfolders are flattened in). */
export async function collectDropped(transfer: DataTransfer): Promise<DroppedFile[]> {
  const entries = [...transfer.items]
    .filter((item) => item.kind === 'file')
    .map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.length === 0 || entries.some((entry) => entry === null)) {
    return [...transfer.files].map((file) => ({ folder: null, file }));
  }
  const out: DroppedFile[] = [];
  for (const entry of entries as FileSystemEntry[]) {
    if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry, entry.name, out);
    else out.push({ folder: null, file: await entryFile(entry as FileSystemFileEntry) });
  }
  return out;
}

async function walk(directory: FileSystemDirectoryEntry, folder: string, out: DroppedFile[]): Promise<void> {
  const reader = directory.createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return;
    for (const entry of batch) {
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry, folder, out);
      else out.push({ folder, file: await entryFile(entry as FileSystemFileEntry) });
    }
  }
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}
