// What the IPC handler decides before anything reaches the engine, kept free of Electron so
// tests can exercise it: whether the sender is our own page, whether the window may call the
// method at all, and whether the request passes its schema.
import { API, type ApiError, type ApiRequest } from '../engine/api/app-api.js';
import { isRendererMethod, type RendererMethod } from '../engine/api/renderer-methods.js';

/** The parts of an IpcMainInvokeEvent the trust check reads (Electron's event has them). */
export interface IpcSender {
  sender: unknown;
  senderFrame: { parent: unknown; url: string } | null;
}

/** Our window's top frame, showing a page of our own; not an iframe, not a page navigated elsewhere. */
export function isTrustedSender(event: IpcSender, window: { webContents: unknown } | undefined, isAppUrl: (url: string) => boolean): boolean {
  return window !== undefined && event.sender === window.webContents && event.senderFrame !== null && event.senderFrame.parent === null && isAppUrl(event.senderFrame.url);
}

export type CallDecision =
  | { allowed: true; method: RendererMethod; request: ApiRequest<RendererMethod> }
  | { allowed: false; error: ApiError };

/** Checks in order: sender, method, request; the first failure is the answer. */
export function decideCall(trusted: boolean, method: unknown, request: unknown): CallDecision {
  if (!trusted) return { allowed: false, error: { code: 'forbidden', message: 'untrusted sender' } };
  if (typeof method !== 'string' || !isRendererMethod(method)) {
    return { allowed: false, error: { code: 'forbidden', message: `'${String(method).slice(0, 100)}' cannot be called from the window` } };
  }
  const parsed = API[method].request.safeParse(request);
  if (!parsed.success) {
    const message = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`).join('; ');
    return { allowed: false, error: { code: 'usage', message } };
  }
  return { allowed: true, method, request: parsed.data as ApiRequest<RendererMethod> };
}
