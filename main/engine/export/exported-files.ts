// Where the app keeps exported models: one folder per version inside the project's state folder,
// so exporting never writes anywhere the user did not choose, and a download can only name
// a file of this fixed shape.
import path from 'node:path';

export const EXPORTED_FILE_NAMES = ['model.onnx', 'labels.json'] as const;
export type ExportedFileName = (typeof EXPORTED_FILE_NAMES)[number];

export function exportedModelPath(stateDir: string, versionId: number): string {
  return path.join(stateDir, 'exports', `v${versionId}`, 'model.onnx');
}

/** The file a download path `v<N>/<name>` names, or null for anything else. */
export function exportedFile(stateDir: string, downloadPath: string): string | null {
  const match = /^v([1-9][0-9]{0,8})\/(model\.onnx|labels\.json)$/.exec(downloadPath);
  if (!match) return null;
  return path.join(path.dirname(exportedModelPath(stateDir, Number(match[1]))), match[2]!);
}
