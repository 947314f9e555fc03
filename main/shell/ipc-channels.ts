/** IPC channel names, shared by the shell and (copied, as the sandboxed preload cannot import) preload/index.cts. */
export const CALL_CHANNEL = 'keizoku:call';
export const CHOOSE_PROJECT_CHANNEL = 'keizoku:choose-project';
export const EVENT_CHANNEL = 'keizoku:event';
export const OPEN_SAMPLE_CHANNEL = 'keizoku:open-sample';
