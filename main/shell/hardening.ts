import { app, session, type WebContents } from 'electron';
import { allowsPermission } from './permission-policy.js';

/**
 * Locks every web contents down: no navigation away from the app, no new windows, no
 * webviews, every permission denied except the camera (video only) for the app's own page
 * (permission-policy.ts), which camera capture and the live preview need.
 */
export function hardenApp(isAppUrl: (url: string) => boolean): void {
  app.enableSandbox();
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_contents, permission, callback, details) => {
      const mediaTypes = 'mediaTypes' in details ? details.mediaTypes : undefined;
      callback(allowsPermission({ permission, requestingUrl: details.requestingUrl, isMainFrame: details.isMainFrame, mediaTypes }, isAppUrl));
    });
    session.defaultSession.setPermissionCheckHandler((_contents, permission, _origin, details) =>
      allowsPermission(
        { permission, requestingUrl: details.requestingUrl, isMainFrame: details.isMainFrame, mediaTypes: details.mediaType ? [details.mediaType] : undefined },
        isAppUrl,
      ),
    );
  });
}
