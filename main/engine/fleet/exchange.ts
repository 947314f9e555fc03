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
import { statisticsDigest, type FleetStatistics } from './statistics.js';

export { statisticsDigest };
import { AGGREGATE_DEVICE, FleetTransport, redactUrl } from './transport.js';
import { subtractOwn, type AggregateIncluded } from './aggregator.js';

export interface FleetRefusal {
  device: string;
  reason: string;
}

export type ExchangeOutcome =
  | {
      status: 'exchanged';
      /** 'aggregator': the others came from the fleet sum (one message), else one message per device. */
      via: 'devices' | 'aggregator';
      aggregateIncludes?: AggregateIncluded[];
      published: { version: number; bytes: number; sha256: string; statisticsSha256: string };
      accepted: Array<{ source: FleetSource; statistics: FleetStatistics }>;
      refused: FleetRefusal[];
    }
  | { status: 'skipped'; reason: string };

export interface ExchangeOptions {
  timeoutMs?: number;
  /** This device's statistics as of its previous update (what it published then): the aggregate may still hold those. */
  previousLocal?: FleetStatistics | null;
}

export async function exchangeStatistics(config: FleetConfig, local: FleetStatistics, options: ExchangeOptions = {}): Promise<ExchangeOutcome> {
  let transport: FleetTransport | undefined;
  try {
    const statisticsSha256 = statisticsDigest(local);
    const version = config.published?.statisticsSha256 === statisticsSha256 ? config.published.version : (config.published?.version ?? 0) + 1;
    const noise = config.noise ? { ...config.noise, sigma: gaussianSigma(config.noise.epsilon, config.noise.delta) } : undefined;
    const published = noise ? addGaussianNoise(local, noise.sigma) : local;
    const payload = encodeFleetMessage({ fleet: config.fleet, device: config.device, version, publishedAt: new Date().toISOString(), ...(noise ? { noise } : {}) }, published);
    transport = await FleetTransport.connect({ url: config.broker, credentials: loadCredentials(config), device: config.device, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
    await transport.publish(config.fleet, config.device, payload);
    const publishedRecord = { version, bytes: payload.length, sha256: sha256(payload), statisticsSha256 };
    if (config.viaAggregator && !noise) {
      const viaSum = await othersFromAggregate(transport, config, local, options.previousLocal ?? null);
      if (viaSum) return { status: 'exchanged', via: 'aggregator', aggregateIncludes: viaSum.includes, published: publishedRecord, accepted: [viaSum.entry], refused: [] };
    }
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
    return { status: 'exchanged', via: 'devices', published: publishedRecord, accepted, refused };
  } catch (error) {
    return { status: 'skipped', reason: `fleet part skipped (${redactUrl((error as Error).message)}); this update used local data only` };
  } finally {
    await transport?.close();
  }
}

/**
 * The other devices' statistics from the aggregator's fleet sum (one message), when the sum holds
 * this device's current or previous statistics, which come back out exactly; null otherwise (the
 * caller then reads every device's message).
 */
async function othersFromAggregate(transport: FleetTransport, config: FleetConfig, local: FleetStatistics, previousLocal: FleetStatistics | null): Promise<{ entry: { source: FleetSource; statistics: FleetStatistics }; includes: AggregateIncluded[] } | null> {
  const [message] = await transport.fetchAll(config.fleet, AGGREGATE_DEVICE);
  if (!message) return null;
  let decoded;
  try {
    decoded = decodeFleetMessage(message.payload);
  } catch {
    return null;
  }
  const includes = decoded.header.includes;
  const mine = includes?.find((entry) => entry.device === config.device);
  if (!includes || !mine || incompatibility(local, decoded.statistics)) return null;
  const own = mine.statisticsSha256 === statisticsDigest(local) ? local : previousLocal && mine.statisticsSha256 === statisticsDigest(previousLocal) ? previousLocal : null;
  if (!own) return null;
  const others = subtractOwn(decoded.statistics, own);
  return {
    includes: includes.filter((entry) => entry.device !== config.device),
    entry: {
      source: {
        device: AGGREGATE_DEVICE, version: decoded.header.version, sha256: sha256(message.payload), statisticsSha256: statisticsDigest(decoded.statistics),
        publishedAt: decoded.header.publishedAt, samples: others.counts.reduce((a, b) => a + b, 0), classes: others.classNames.length,
      },
      statistics: others,
    },
  };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

