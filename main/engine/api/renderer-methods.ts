// The API methods the app's window may call over IPC. The shell refuses every other one before
// it reaches the engine, so a compromised page can do no more than the UI itself does. Kept
// equal to the methods renderer/src calls, and copied into the sandboxed preload (which cannot
// import); test/ipc-policy.test.ts checks both.
import type { ApiMethod } from './app-api.js';

export const RENDERER_METHODS = [
  'overview',
  'update',
  'cancelUpdate',
  'versions',
  'versionDetail',
  'rollback',
  'importFiles',
  'predictImages',
  'thumbnail',
  'settings',
  'setSettings',
  'prepareBackbone',
  'exportModel',
  'review',
  'moveSample',
  'undoMove',
  'excludeSample',
  'includeSample',
  'samplePreview',
  'fleetStatus',
] as const satisfies readonly ApiMethod[];

export type RendererMethod = (typeof RENDERER_METHODS)[number];

const allowed: ReadonlySet<string> = new Set(RENDERER_METHODS);

export function isRendererMethod(name: string): name is RendererMethod {
  return allowed.has(name);
}
