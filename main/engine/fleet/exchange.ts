// One fleet exchange during an update: publish this device's cumulative statistics (replacing
// its previous retained message), then read every other device's latest and sort them into
// usable and refused (with the reason). Never throws for the broker's sake: an unreachable
// broker makes the exchange "skipped", and the update goes on with local data.

import { createHash } from 'node:crypto';
import type { FleetSource } from '../api/contract.js';
import { loadCredentials, type FleetConfig } from './config.js';
import { decodeFleetMessage, encodeFleetMessage } from './message.js';
import { incompatibility } from './merge.js';
import { addGaussianNoise, gaussianSigma } from './privacy.js';
import type { FleetStatistics } from './statistics.js';
import { FleetTransport, redactUrl } from './transport.js';

export interface FleetRefusal {
  device: string;
  reason: string;
}

export type ExchangeOutcome =
  | {
      status: 'exchanged';
      published: { version: number; bytes: number; sha256: string; statisticsSha256: string };
      accepted: Array<{ source: FleetSource; statistics: FleetStatistics }>;
      refused: FleetRefusal[];
    }
  | { status: 'skipped'; reason: string };

export async function exchangeStatistics(config: FleetConfig, local: FleetStatistics, options: { timeoutMs?: number } = {}): Promise<ExchangeOutcome> {
  let transport: FleetTransport | undefined;
  try {
    const statisticsSha256 = statisticsDigest(local);
    const version = config.published?.statisticsSha256 === statisticsSha256 ? config.published.version : (config.published?.version ?? 0) + 1;
    const noise = config.noise ? { ...config.noise, sigma: gaussianSigma(config.noise.epsilon, config.noise.delta) } : undefined;
    const published = noise ? addGaussianNoise(local, noise.sigma) : local;
    const payload = encodeFleetMessage({ fleet: config.fleet, device: config.device, version, publishedAt: new Date().toISOString(), ...(noise ? { noise } : {}) }, published);
    transport = await FleetTransport.connect({ url: config.broker, credentials: loadCredentials(config), device: config.device, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
    await transport.publish(config.fleet, config.device, payload);
    const messages = await transport.fetchAll(config.fleet);
    const accepted: Array<{ source: FleetSource; statistics: FleetStatistics }> = [];
    const refused: FleetRefusal[] = [];
    for (const { device, payload: bytes } of messages.sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0))) {
      if (device === config.device || device.startsWith('_')) continue;
      try {
        const message = decodeFleetMessage(bytes);
        if (message.header.device !== device) throw new Error(`published on ${device}'s topic but says it is from "${message.header.device}"`);
        if (message.header.fleet !== config.fleet) throw new Error(`says it belongs to fleet "${message.header.fleet}"`);
        const reason = incompatibility(local, message.statistics);
        if (reason) throw new Error(`not summed: it has ${reason}`);
        accepted.push({
          source: {
            device, version: message.header.version, sha256: sha256(bytes), statisticsSha256: statisticsDigest(message.statistics), publishedAt: message.header.publishedAt,
            samples: message.statistics.counts.reduce((a, b) => a + b, 0), classes: message.statistics.classNames.length,
          },
          statistics: message.statistics,
        });
      } catch (error) {
        refused.push({ device, reason: (error as Error).message });
      }
    }
    return { status: 'exchanged', published: { version, bytes: payload.length, sha256: sha256(payload), statisticsSha256 }, accepted, refused };
  } catch (error) {
    return { status: 'skipped', reason: `fleet part skipped (${redactUrl((error as Error).message)}); this update used local data only` };
  } finally {
    await transport?.close();
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Identifies the statistics themselves (not when they were sent), to keep the version when nothing changed. */
export function statisticsDigest(stats: FleetStatistics): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([stats.learner, stats.backbone, stats.precision, stats.featureLayout, stats.dim, stats.classNames, stats.counts]));
  if (stats.gram) hash.update(new Uint8Array(stats.gram.buffer, stats.gram.byteOffset, stats.gram.byteLength));
  hash.update(new Uint8Array(stats.cross.buffer, stats.cross.byteOffset, stats.cross.byteLength));
  hash.update(stats.sketch.flat().join(''));
  return hash.digest('hex');
}
