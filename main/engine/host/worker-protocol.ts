import type { ApiError, ApiMethod, EngineEvent } from '../api/app-api.js';

/** Messages between the engine worker and the thread that owns it (server or Electron shell). */
export type ToWorker = { kind: 'call'; id: number; method: ApiMethod; request: unknown } | { kind: 'close' };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'startFailed'; error: ApiError }
  | { kind: 'result'; id: number; result: unknown }
  | { kind: 'error'; id: number; error: ApiError }
  | { kind: 'event'; event: EngineEvent }
  | { kind: 'closed' };
