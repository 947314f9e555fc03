// The renderer's only bridge to the app: three calls and one event stream, nothing of Node or
// Electron itself, and API calls only for the methods the UI uses. Runs sandboxed with context
// isolation; the main process validates every payload again (this side is as untrusted as the page).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

const CALL = 'keizoku:call';
const CHOOSE_PROJECT = 'keizoku:choose-project';
const EVENT = 'keizoku:event';
const OPEN_SAMPLE = 'keizoku:open-sample';
/** A copy of RENDERER_METHODS (main/engine/api/renderer-methods.ts): a sandboxed preload cannot
 * import, and test/ipc-policy.test.ts checks the two agree. The main process enforces its own
 * list; refusing here too means a stray call never even crosses into the main process. */
const RENDERER_METHODS: ReadonlySet<string> = new Set([
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
]);

contextBridge.exposeInMainWorld('keizoku', {
  call: (method: string, request: unknown): Promise<unknown> => {
    const name = String(method);
    if (!RENDERER_METHODS.has(name)) return Promise.resolve({ error: { code: 'forbidden', message: `'${name.slice(0, 100)}' cannot be called from the window` } });
    return ipcRenderer.invoke(CALL, name, request);
  },
  chooseProject: (labels?: unknown): Promise<string | null> => ipcRenderer.invoke(CHOOSE_PROJECT, labels),
  /** Opens a sample of the project in the system's viewer; resolves '' or why it could not. */
  openSample: (relPath: string): Promise<string> => ipcRenderer.invoke(OPEN_SAMPLE, String(relPath)),
  onEvent: (listener: (event: unknown) => void): (() => void) => {
    const forward = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(EVENT, forward);
    return () => ipcRenderer.removeListener(EVENT, forward);
  },
});
