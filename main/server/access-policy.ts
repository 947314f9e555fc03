import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export class AccessPolicyError extends Error {}

export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Who may talk to the server. On loopback no token is needed, but the Host header must name
 * the loopback address (a web page elsewhere cannot reach us through DNS rebinding). Any
 * other binding requires a token, sent as `Authorization: Bearer …` or `?token=…` (the
 * browser's EventSource cannot set headers).
 */
export class AccessPolicy {
  constructor(
    readonly bindHost: string,
    private readonly token: string | undefined,
  ) {
    if (!isLoopbackHost(bindHost) && !token) {
      throw new AccessPolicyError(`refusing to listen on ${bindHost} without an access token: pass --token (at least 16 characters) or bind 127.0.0.1`);
    }
    if (token !== undefined && token.length < 16) throw new AccessPolicyError('the access token must be at least 16 characters');
  }

  get needsToken(): boolean {
    return this.token !== undefined;
  }

  /** null when allowed, else the HTTP status and reason. */
  check(request: IncomingMessage, url: URL): { status: number; reason: string } | null {
    if (!this.token) {
      const hostHeader = (request.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
      if (!isLoopbackHost(hostHeader)) return { status: 421, reason: 'this server answers only on its loopback address' };
      return null;
    }
    const header = request.headers.authorization;
    const offered = header?.startsWith('Bearer ') ? header.slice(7) : url.searchParams.get('token');
    if (!offered || !sameSecret(offered, this.token)) return { status: 401, reason: 'missing or wrong access token' };
    return null;
  }
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

