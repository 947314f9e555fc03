// MQTT 5 transport for fleet statistics: an existing broker (Mosquitto) holds one retained
// message per device on keizoku/<fleet>/<device>/stats. Publishing replaces it; the broker only
// stores a PUBLISH it received whole, so a device killed mid-publish leaves its previous message.
// Subscribing hands over every device's latest at once, late joiners included.

import { randomBytes } from 'node:crypto';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import type { BrokerCredentials } from './config.js';

export const TOPIC_ROOT = 'keizoku';
/** The aggregator's fleet sum (aggregator.ts) sits beside the device messages under a name no device may use ("_" prefix is not a device). */
export const AGGREGATE_DEVICE = '_sum';

export function statsTopic(fleet: string, device: string): string {
  return `${TOPIC_ROOT}/${fleet}/${device}/stats`;
}

export interface BrokerAddress {
  url: string;
  credentials: BrokerCredentials;
  /** Names the MQTT client id (a random suffix keeps two processes of one device apart). */
  device: string;
  /** Gives up on connecting, publishing or receiving after this long (default 15 s). */
  timeoutMs?: number;
}

export interface RetainedMessage {
  device: string;
  payload: Buffer;
}

export class FleetUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetUnreachableError';
  }
}

/** A connection for one exchange; always `close()` it. */
export class FleetTransport {
  private constructor(
    private readonly client: MqttClient,
    private readonly timeoutMs: number,
  ) {}

  static async connect(address: BrokerAddress): Promise<FleetTransport> {
    const timeoutMs = address.timeoutMs ?? 15_000;
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: `keizoku-${address.device}-${randomBytes(4).toString('hex')}`,
      clean: true,
      connectTimeout: timeoutMs,
      reconnectPeriod: 0,
      ...address.credentials,
    };
    try {
      const client = await withTimeout(connectAsync(address.url, options, false), timeoutMs, 'connecting to the broker');
      return new FleetTransport(client, timeoutMs);
    } catch (error) {
      throw new FleetUnreachableError(`broker ${redactUrl(address.url)} unreachable: ${(error as Error).message}`);
    }
  }

  /** Replaces this device's retained message (QoS 1: returns once the broker has it). An empty payload removes it. */
  async publish(fleet: string, device: string, payload: Uint8Array): Promise<void> {
    await withTimeout(this.client.publishAsync(statsTopic(fleet, device), Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), { qos: 1, retain: true }), this.timeoutMs, 'publishing');
  }

  /**
   * Every retained stats message of the fleet (device messages, and the aggregator's under
   * AGGREGATE_DEVICE). The broker queues retained messages at subscribe time; a QoS 1 marker
   * published afterwards on our own sync topic arrives after them (MQTT keeps one client's
   * messages in order), so its arrival means all of them are in.
   */
  async fetchAll(fleet: string, only?: string): Promise<RetainedMessage[]> {
    const received = new Map<string, Buffer>();
    const nonce = randomBytes(8).toString('hex');
    const syncTopic = `${TOPIC_ROOT}/${fleet}/_sync/${nonce}`;
    const prefix = `${TOPIC_ROOT}/${fleet}/`;
    const done = new Promise<void>((resolve) => {
      this.client.on('message', (topic, payload, packet) => {
        if (topic === syncTopic) return resolve();
        if (!packet.retain || !topic.startsWith(prefix) || !topic.endsWith('/stats')) return;
        const device = topic.slice(prefix.length, -'/stats'.length);
        if (device.includes('/')) return;
        if (payload.length === 0) received.delete(device);
        else received.set(device, payload);
      });
    });
    const filter = statsTopic(fleet, only ?? '+');
    await withTimeout(this.client.subscribeAsync({ [filter]: { qos: 1 }, [syncTopic]: { qos: 1 } }), this.timeoutMs, 'subscribing');
    await withTimeout(this.client.publishAsync(syncTopic, Buffer.from(nonce), { qos: 1 }), this.timeoutMs, 'syncing');
    await withTimeout(done, this.timeoutMs, 'receiving the fleet');
    await this.client.unsubscribeAsync([filter, syncTopic]).catch(() => undefined);
    return [...received].map(([device, payload]) => ({ device, payload }));
  }

  async close(): Promise<void> {
    await this.client.endAsync().catch(() => undefined);
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new FleetUnreachableError(`timed out ${what} after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The broker URL without any user:password part, for messages and status. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}
