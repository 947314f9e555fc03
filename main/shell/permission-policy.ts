// Which browser permissions the app's window gets, kept free of Electron so tests can exercise
// it: the camera (video only) for our own page's top frame, and nothing else for anyone.

/** What Electron's permission request and check handlers tell us, reduced to what we decide on. */
export interface PermissionAsk {
  permission: string;
  /** the URL of the frame asking (the request's `requestingUrl`, the check's `details.requestingUrl`) */
  requestingUrl: string | undefined;
  isMainFrame: boolean;
  /** a request's `mediaTypes`; a check's single `mediaType` as a one-element list */
  mediaTypes: readonly string[] | undefined;
}

/** True only for `media` asked by the app's own top-level page for video alone (no microphone, no screen). */
export function allowsPermission(ask: PermissionAsk, isAppUrl: (url: string) => boolean): boolean {
  if (ask.permission !== 'media') return false;
  if (!ask.isMainFrame || ask.requestingUrl === undefined || !isAppUrl(ask.requestingUrl)) return false;
  const types = ask.mediaTypes ?? [];
  return types.length > 0 && types.every((type) => type === 'video');
}
