// The renderer's only bridge to the app: two calls and one event stream, nothing of Node or
// Electron itself. Runs sandboxed with context isolation; the main process validates every
// payload again (this side is as untrusted as the page).
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

const CALL = 'keizoku:call';
const CHOOSE_PROJECT = 'keizoku:choose-project';
const EVENT = 'keizoku:event';

contextBridge.exposeInMainWorld('keizoku', {
  call: (method: string, request: unknown): Promise<unknown> => ipcRenderer.invoke(CALL, String(method), request),
  chooseProject: (): Promise<string | null> => ipcRenderer.invoke(CHOOSE_PROJECT),
  onEvent: (listener: (event: unknown) => void): (() => void) => {
    const forward = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(EVENT, forward);
    return () => ipcRenderer.removeListener(EVENT, forward);
  },
});
