import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { EngineCallError, type EngineClient } from '../engine/host/engine-client.js';
import { chooseProjectLabels, type ChooseProjectLabels } from './dialog-labels.js';
import { CALL_CHANNEL, CHOOSE_PROJECT_CHANNEL, OPEN_SAMPLE_CHANNEL } from './ipc-channels.js';
import { decideCall } from './ipc-policy.js';

type Envelope = { result: unknown } | { error: { code: string; message: string } };

/**
 * Answers the renderer's API calls. Each one must come from our window's top frame showing
 * our own page, name a method the window is allowed (RENDERER_METHODS) and carry a request
 * that passes its zod schema, before it reaches the engine worker (ipc-policy.ts decides).
 */
export function registerIpc(options: {
  isTrustedSender: (event: IpcMainInvokeEvent) => boolean;
  engine: () => EngineClient | undefined;
  chooseProject: (labels: ChooseProjectLabels) => Promise<string | null>;
  /** opens a sample of the current project in the system's viewer; '' or why not */
  openSample: (relPath: string) => Promise<string>;
}): void {
  ipcMain.handle(CALL_CHANNEL, async (event, method: unknown, request: unknown): Promise<Envelope> => {
    const decision = decideCall(options.isTrustedSender(event), method, request);
    if (!decision.allowed) return { error: decision.error };
    const engine = options.engine();
    if (!engine) return { error: { code: 'no-project', message: 'no project folder chosen yet' } };
    try {
      return { result: await engine.call(decision.method, decision.request as never) };
    } catch (error) {
      if (error instanceof EngineCallError) return { error: error.error };
      return { error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } };
    }
  });
  ipcMain.handle(OPEN_SAMPLE_CHANNEL, async (event, relPath: unknown): Promise<string> => {
    if (!options.isTrustedSender(event)) return 'untrusted sender';
    if (typeof relPath !== 'string' || relPath.length === 0 || relPath.length > 4096) return 'not a sample path';
    return options.openSample(relPath);
  });
  ipcMain.handle(CHOOSE_PROJECT_CHANNEL, async (event, labels: unknown) => {
    if (!options.isTrustedSender(event)) return null;
    return options.chooseProject(chooseProjectLabels(labels));
  });
}
