// The renderer's only way out: the typed app API. In the desktop app the preload script
// exposes it as window.keizoku (IPC); in a browser it is HTTP + Server-Sent Events to the
// `keizoku serve` that served this page. Both carry the same methods and events.
import type { ApiRequest, ApiResult, EngineEvent } from '../../../main/engine/api/app-api.js';
import type { RendererMethod } from '../../../main/engine/api/renderer-methods.js';
import { busyDelayMs, fetchRetryingBusy } from './busy-retry.js';

/** What a call answers: the result, or the engine's error code and message. */
export type Envelope = { result: unknown; error?: undefined } | { result?: undefined; error: { code: string; message: string } };

export interface Bridge {
  call(method: string, request: unknown): Promise<Envelope>;
  /** `onConnect` runs each time the event stream (re)opens: events sent while it was not open are lost, so state read before then may be stale. */
  onEvent(listener: (event: EngineEvent) => void, onConnect?: () => void): () => void;
  /** desktop only: pick (or create) a project folder; resolves null when dismissed. The labels are the dialog's titles, in the UI language. */
  chooseProject?: (labels: { title: string; cannotOpen: string }) => Promise<string | null>;
  /** desktop only: open a sample in the system's viewer; resolves '' or why not */
  openSample?: (relPath: string) => Promise<string>;
}

export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

declare global {
  interface Window {
    keizoku?: Bridge;
  }
}

function httpBridge(): Bridge {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem('keizoku-token', fromUrl);
    url.searchParams.delete('token');
    history.replaceState(null, '', url); // keep the secret out of history and screenshots
  }
  const token = sessionStorage.getItem('keizoku-token');
  return {
    async call(method, request) {
      const payload = JSON.stringify(request);
      // A `busy` answer (the server's body budget is full) is retried: the call was not run.
      const response = await fetchRetryingBusy(() =>
        fetch(`api/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: payload,
        }),
      );
      const fallback: Envelope = { error: { code: 'internal', message: `the server answered HTTP ${response.status}` } };
      const body = (await response.json().catch(() => fallback)) as Envelope;
      return response.ok || body.error ? body : fallback;
    },
    onEvent(listener, onConnect) {
      const streamUrl = `api/events${token ? `?token=${encodeURIComponent(token)}` : ''}`;
      let source: EventSource | null = null;
      let retry: ReturnType<typeof setTimeout> | undefined;
      let failures = 0;
      let stopped = false;
      // EventSource reconnects by itself after a dropped stream, but gives up for good on an
      // error status (429 when the server's stream cap is full): then we open a new one later.
      const open = () => {
        const current = new EventSource(streamUrl);
        source = current;
        current.onopen = () => {
          failures = 0;
          onConnect?.();
        };
        current.onmessage = (message) => listener(JSON.parse(message.data as string) as EngineEvent);
        current.onerror = () => {
          if (stopped || current.readyState !== EventSource.CLOSED) return;
          retry = setTimeout(open, busyDelayMs(failures++, null));
        };
      };
      open();
      return () => {
        stopped = true;
        clearTimeout(retry);
        source?.close();
      };
    },
  };
}

const bridge: Bridge = window.keizoku ?? httpBridge();

export const isDesktop = window.keizoku !== undefined;

/** Only the methods the desktop shell lets the window call (RENDERER_METHODS) type-check here. */
export async function call<M extends RendererMethod>(method: M, request: ApiRequest<M>): Promise<ApiResult<M>> {
  let envelope: Envelope;
  try {
    envelope = await bridge.call(method, request);
  } catch (error) {
    throw new ApiCallError('unreachable', `cannot reach the engine: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (envelope.error) throw new ApiCallError(envelope.error.code, envelope.error.message);
  return envelope.result as ApiResult<M>;
}

export const onEngineEvent = (listener: (event: EngineEvent) => void, onConnect?: () => void) => bridge.onEvent(listener, onConnect);
export const chooseProject = bridge.chooseProject;
export const openSample = bridge.openSample;

/** In a browser: where `keizoku serve` offers an exported file (`v<N>/model.onnx`); the desktop app has the file itself. */
export function exportDownloadUrl(downloadPath: string): string | null {
  if (isDesktop) return null;
  const token = sessionStorage.getItem('keizoku-token');
  return `api/exported/${downloadPath}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}
