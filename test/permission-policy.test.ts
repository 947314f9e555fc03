// The desktop window's permissions: the camera (video only) for the app's own top-level page,
// nothing else for anyone. Electron cannot run here, so this is the pure function both of the
// shell's permission handlers call (main/shell/hardening.ts).
import { describe, expect, it } from 'vitest';
import { allowsPermission, type PermissionAsk } from '../main/shell/permission-policy.js';

const APP = 'file:///opt/Keizoku/resources/app/dist/renderer/';
const isAppUrl = (url: string) => url.startsWith(APP);
const camera: PermissionAsk = { permission: 'media', requestingUrl: `${APP}index.html`, isMainFrame: true, mediaTypes: ['video'] };

describe('the window permission policy', () => {
  it('allows the camera for our own page', () => {
    expect(allowsPermission(camera, isAppUrl)).toBe(true);
  });

  it('refuses the microphone, camera with microphone, screen capture and unknown media types', () => {
    expect(allowsPermission({ ...camera, mediaTypes: ['audio'] }, isAppUrl)).toBe(false);
    expect(allowsPermission({ ...camera, mediaTypes: ['video', 'audio'] }, isAppUrl)).toBe(false);
    expect(allowsPermission({ ...camera, mediaTypes: ['unknown'] }, isAppUrl)).toBe(false);
    expect(allowsPermission({ ...camera, mediaTypes: [] }, isAppUrl)).toBe(false);
    expect(allowsPermission({ ...camera, mediaTypes: undefined }, isAppUrl)).toBe(false);
    expect(allowsPermission({ ...camera, permission: 'display-capture' }, isAppUrl)).toBe(false);
  });

  it('refuses other pages, frames and URLs that only look like ours', () => {
    for (const requestingUrl of ['https://example.com/', 'file:///tmp/evil.html', 'file:///opt/Keizoku/resources/app/dist/renderer-evil/x.html', 'data:text/html,hi', '', undefined]) {
      expect(allowsPermission({ ...camera, requestingUrl }, isAppUrl), String(requestingUrl)).toBe(false);
    }
    expect(allowsPermission({ ...camera, isMainFrame: false }, isAppUrl)).toBe(false);
  });

  it('refuses every other permission, even to our own page', () => {
    for (const permission of ['notifications', 'geolocation', 'clipboard-read', 'midi', 'midiSysex', 'openExternal', 'fullscreen', 'hid', 'usb', 'serial', 'pointerLock', 'unknown', 'fileSystem']) {
      expect(allowsPermission({ ...camera, permission }, isAppUrl), permission).toBe(false);
    }
  });
});
