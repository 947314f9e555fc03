/**
 * The renderer's Content-Security-Policy: only our own scripts, styles and connections;
 * images from ourselves and data: URLs (thumbnails, dropped images). The same policy is a
 * meta tag in index.html for the desktop app, where there are no HTTP headers. The camera's
 * MediaStream goes to <video> as srcObject, which media-src does not govern, so no media
 * source is needed.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // The camera for our own page only (capture and the live preview); the rest stays off.
  'permissions-policy': 'camera=(self), microphone=(), geolocation=()',
};
