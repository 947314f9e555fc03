import type { ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from './content-security.js';

/**
 * Event streams open at once. The UI holds one per tab; 64 leaves room for many tabs and
 * scripts, while a flood of idle streams (each a socket, buffers and a heartbeat write)
 * stays bounded.
 */
export const MAX_EVENT_STREAMS = 64;
/** Queued, unsent bytes after which a stream that does not read is dropped rather than buffered without end. */
const MAX_QUEUED_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 15_000;

/** The open Server-Sent-Event streams: capped, kept alive, and each fed every engine event. */
export class EventStreams {
  private readonly open = new Set<ServerResponse>();
  private readonly heartbeat = setInterval(() => this.send(': keep-alive\n\n'), HEARTBEAT_MS);

  constructor(private readonly limit: number = MAX_EVENT_STREAMS) {
    this.heartbeat.unref();
  }

  /** Starts the stream on `response`; false (nothing written) when the cap is reached. */
  add(response: ServerResponse): boolean {
    if (this.open.size >= this.limit) return false;
    response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    response.write(': connected\n\n');
    this.open.add(response);
    // 'close' fires when the client goes away (the response itself never finishes).
    response.on('close', () => this.open.delete(response));
    return true;
  }

  broadcast(event: unknown): void {
    this.send(`data: ${JSON.stringify(event)}\n\n`);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const response of this.open) response.end();
    this.open.clear();
  }

  private send(frame: string): void {
    for (const response of this.open) {
      if (response.writableLength > MAX_QUEUED_BYTES) response.destroy();
      else response.write(frame);
    }
  }
}
