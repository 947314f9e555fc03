import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { API, isApiMethod } from '../engine/api/app-api.js';
import { EngineCallError, type EngineClient } from '../engine/host/engine-client.js';
import { CALL_CHANNEL, CHOOSE_PROJECT_CHANNEL } from './ipc-channels.js';

type Envelope = { result: unknown } | { error: { code: string; message: string } };

/**
 * Answers the renderer's API calls. Each one must come from our window's top frame showing
 * our own page, name a known method and carry a request that passes its zod schema, before
 * it reaches the engine worker.
 */
export function registerIpc(options: {
  isTrustedSender: (event: IpcMainInvokeEvent) => boolean;
  engine: () => EngineClient | undefined;
  chooseProject: () => Promise<string | null>;
}): void {
  ipcMain.handle(CALL_CHANNEL, async (event, method: unknown, request: unknown): Promise<Envelope> => {
    if (!options.isTrustedSender(event)) return { error: { code: 'forbidden', message: 'untrusted sender' } };
    if (typeof method !== 'string' || !isApiMethod(method)) return { error: { code: 'usage', message: `no API method '${String(method)}'` } };
    const parsed = API[method].request.safeParse(request);
    if (!parsed.success) return { error: { code: 'usage', message: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`).join('; ') } };
    const engine = options.engine();
    if (!engine) return { error: { code: 'no-project', message: 'no project folder chosen yet' } };
    try {
      return { result: await engine.call(method, parsed.data as never) };
    } catch (error) {
      if (error instanceof EngineCallError) return { error: error.error };
      return { error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } };
    }
  });
  ipcMain.handle(CHOOSE_PROJECT_CHANNEL, async (event) => {
    if (!options.isTrustedSender(event)) return null;
    return options.chooseProject();
  });
}
