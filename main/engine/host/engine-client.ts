import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { ApiError, ApiMethod, ApiRequest, ApiResult, EngineEvent } from '../api/app-api.js';
import type { EngineOptions } from './engine-service.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

/** A failed API call, with the engine's stable error code. */
export class EngineCallError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}

/**
 * The owner's side of the engine worker: typed calls that resolve with the worker's answer,
 * and an 'event' stream (progress, folder changes). Used by the HTTP server and the Electron
 * shell alike, so both run the very same engine off their event loop.
 */
export class EngineClient extends EventEmitter<{ event: [EngineEvent]; exit: [number] }> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private exited = false;

  private constructor(private readonly worker: Worker) {
    super();
  }

  static async start(options: EngineOptions): Promise<EngineClient> {
    const worker = new Worker(new URL('./engine-worker.js', import.meta.url), { workerData: options });
    const client = new EngineClient(worker);
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.kind === 'ready') resolve();
        else if (message.kind === 'startFailed') reject(new EngineCallError(message.error));
        else client.receive(message);
      });
      worker.on('error', reject); // kept for the worker's life: an uncaught worker error must not crash the owner
      worker.once('exit', (code) => {
        client.exited = true;
        reject(new Error(`engine stopped (exit code ${code})`));
        for (const { reject: fail } of client.pending.values()) fail(new EngineCallError({ code: 'internal', message: `engine stopped (exit code ${code})` }));
        client.pending.clear();
        client.emit('exit', code);
      });
    });
    return client;
  }

  call<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResult<M>> {
    if (this.exited) return Promise.reject(new EngineCallError({ code: 'internal', message: 'engine stopped' }));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ kind: 'call', id, method, request } satisfies ToWorker);
    });
  }

  private receive(message: FromWorker): void {
    if (message.kind === 'event') {
      this.emit('event', message.event);
    } else if (message.kind === 'result' || message.kind === 'error') {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.kind === 'result') waiting?.resolve(message.result);
      else waiting?.reject(new EngineCallError(message.error));
    }
  }

  /** Stops the watcher and any update (which then leaves the previous version current), then the worker. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ kind: 'close' } satisfies ToWorker);
    const timer = setTimeout(() => void this.worker.terminate(), 15_000);
    await exited;
    clearTimeout(timer);
  }
}
