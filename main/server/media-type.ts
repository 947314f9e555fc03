/**
 * Whether a Content-Type header names exactly application/json: type/subtype before any
 * parameters, case-insensitive (RFC 9110 §8.3.1). A prefix test lets `application/jsonx` and the like
 * through the JSON-only rule.
 */
export function isJsonMediaType(header: string | undefined): boolean {
  if (!header) return false;
  const essence = header.split(';', 1)[0]!.trim().toLowerCase();
  return essence === 'application/json';
}
