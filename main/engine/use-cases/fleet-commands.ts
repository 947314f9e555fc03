// keizoku fleet join | leave | status: record the fleet in the project, leave it (removing this
// device's message from the broker), and show what the broker holds.

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { readFleetConfig, loadCredentials, writeFleetConfig, FleetConfigSchema, type FleetConfig } from '../fleet/config.js';
import { decodeFleetMessage, type FleetMessage } from '../fleet/message.js';
import { incompatibility } from '../fleet/merge.js';
import { gaussianSigma } from '../fleet/privacy.js';
import { FleetTransport, redactUrl } from '../fleet/transport.js';
import { aggregateOnce, type AggregateResult } from '../fleet/aggregator.js';
import { UsageError, type Project } from '../project/project.js';
import type { FleetStatusResult } from '../api/contract.js';
import { refuseInexactFleetLearner, type FleetVersionSources } from './fleet-update.js';

export interface JoinRequest {
  broker: string;
  fleet: string;
  device?: string | undefined;
  credentialsFile?: string | undefined;
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  noise?: { epsilon: number; delta: number } | undefined;
  viaAggregator?: boolean | undefined;
}

export interface FleetJoinResult {
  command: 'fleet';
  action: 'join';
  fleet: string;
  broker: string;
  device: string;
  reachable: boolean;
  reason?: string;
  noise: { epsilon: number; delta: number; sigma: number } | null;
  viaAggregator: boolean;
}

export async function joinFleet(project: Project, request: JoinRequest): Promise<FleetJoinResult> {
  refuseInexactFleetLearner(project.settings.learner);
  if (request.device?.startsWith('_')) throw new UsageError('a device id may not start with "_" (reserved for the aggregator)');
  const previous = readFleetConfig(project.store.settings);
  const parsed = FleetConfigSchema.safeParse({
    broker: request.broker,
    fleet: request.fleet,
    device: request.device ?? previous?.device ?? defaultDeviceId(),
    joinedAt: new Date().toISOString(),
    ...(request.credentialsFile ? { credentialsFile: request.credentialsFile } : {}),
    ...(request.ca ? { ca: request.ca } : {}),
    ...(request.cert ? { cert: request.cert } : {}),
    ...(request.key ? { key: request.key } : {}),
    ...(request.noise ? { noise: request.noise } : {}),
    ...(request.viaAggregator ? { viaAggregator: true } : {}),
    // Rejoining the same fleet as the same device keeps its message version counter.
    ...(previous?.published && previous.fleet === request.fleet && previous.device === (request.device ?? previous.device) ? { published: previous.published } : {}),
  });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  const config = parsed.data;
  const sigma = config.noise ? checkedSigma(config.noise) : null;
  if (/\/\/[^@/]*:[^@/]*@/.test(config.broker)) throw new UsageError('put no password in the broker URL: use KEIZOKU_FLEET_PASSWORD or --credentials-file');
  const probe = await probeBroker(config);
  project.store.transaction(() => writeFleetConfig(project.store.settings, config));
  return {
    command: 'fleet', action: 'join', fleet: config.fleet, broker: redactUrl(config.broker), device: config.device,
    reachable: probe.reachable, ...(probe.reason ? { reason: probe.reason } : {}),
    noise: config.noise && sigma !== null ? { ...config.noise, sigma } : null,
    viaAggregator: config.viaAggregator === true,
  };
}

export interface FleetLeaveResult {
  command: 'fleet';
  action: 'leave';
  left: string | null;
  /** this device's retained message was removed from the broker */
  removedFromBroker: boolean;
  reason?: string;
}

export async function leaveFleet(project: Project): Promise<FleetLeaveResult> {
  const config = readFleetConfig(project.store.settings);
  if (!config) return { command: 'fleet', action: 'leave', left: null, removedFromBroker: false, reason: 'this project is in no fleet' };
  let removedFromBroker = false;
  let reason: string | undefined;
  let transport: FleetTransport | undefined;
  try {
    transport = await FleetTransport.connect({ url: config.broker, credentials: loadCredentials(config), device: config.device, timeoutMs: 10_000 });
    await transport.publish(config.fleet, config.device, new Uint8Array(0)); // an empty retained message deletes the retained one
    removedFromBroker = true;
  } catch (error) {
    reason = `could not remove this device's statistics from the broker (${(error as Error).message}); other devices keep including them until it is removed`;
  } finally {
    await transport?.close();
  }
  project.store.transaction(() => writeFleetConfig(project.store.settings, null));
  return { command: 'fleet', action: 'leave', left: config.fleet, removedFromBroker, ...(reason ? { reason } : {}) };
}

export type { FleetStatusResult };
export type FleetDeviceStatus = FleetStatusResult['devices'][number];



export async function fleetStatus(project: Project): Promise<FleetStatusResult> {
  const config = readFleetConfig(project.store.settings);
  const headId = project.store.versions.headId();
  const row = headId !== null ? project.store.fleetVersions.get(headId) : undefined;
  const sources = row?.sources as FleetVersionSources | undefined;
  const head = headId !== null && sources ? { versionId: headId, status: sources.status, included: sources.included, refused: sources.refused, overlap: sources.overlap } : null;
  if (!config) return { command: 'fleet', action: 'status', joined: false, fleet: null, broker: null, device: null, reachable: false, devices: [], head };
  const base = { command: 'fleet' as const, action: 'status' as const, joined: true, fleet: config.fleet, broker: redactUrl(config.broker), device: config.device, head };
  let transport: FleetTransport | undefined;
  try {
    transport = await FleetTransport.connect({ url: config.broker, credentials: loadCredentials(config), device: config.device, timeoutMs: 10_000 });
    const messages = await transport.fetchAll(config.fleet);
    const decoded = messages
      .filter((message) => !message.device.startsWith('_'))
      .map(({ device, payload }) => {
        try {
          return { device, message: decodeFleetMessage(payload) as FleetMessage | null, error: null };
        } catch (error) {
          return { device, message: null, error: (error as Error).message };
        }
      })
      .sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
    const own = decoded.find((entry) => entry.device === config.device)?.message ?? null;
    const devices = decoded.map(({ device, message, error }): FleetDeviceStatus => {
      const stats = message?.statistics;
      const refused = error ?? (own && stats && device !== config.device ? incompatibility(own.statistics, stats) : null);
      return {
        device, self: device === config.device, version: message?.header.version ?? null, lastHeardAt: message?.header.publishedAt ?? null,
        learner: stats?.learner ?? null, backbone: stats?.backbone ?? null, precision: stats?.precision ?? null, featureDim: stats?.dim ?? null,
        samples: stats ? stats.counts.reduce((a, b) => a + b, 0) : 0,
        classes: stats ? stats.classNames.map((name, i) => ({ name, samples: stats.counts[i]! })) : [],
        noisy: message?.header.noise !== undefined,
        refused: refused ? (error ? refused : `not summed: it has ${refused}`) : null,
      };
    });
    return { ...base, reachable: true, devices };
  } catch (error) {
    return { ...base, reachable: false, reason: (error as Error).message, devices: [] };
  } finally {
    await transport?.close();
  }
}

async function probeBroker(config: FleetConfig): Promise<{ reachable: boolean; reason?: string }> {
  let transport: FleetTransport | undefined;
  try {
    transport = await FleetTransport.connect({ url: config.broker, credentials: loadCredentials(config), device: config.device, timeoutMs: 5_000 });
    return { reachable: true };
  } catch (error) {
    return { reachable: false, reason: `${(error as Error).message}; updates will use local data until it can be reached` };
  } finally {
    await transport?.close();
  }
}

function checkedSigma(noise: { epsilon: number; delta: number }): number {
  try {
    return gaussianSigma(noise.epsilon, noise.delta);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** This machine's name made topic-safe, with a random suffix: two projects on one machine are two devices. */
function defaultDeviceId(): string {
  const host = os.hostname().replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[-_.]+/, '').slice(0, 40) || 'device';
  return `${host}-${randomBytes(3).toString('hex')}`;
}

export interface FleetAggregateResult extends AggregateResult {
  command: 'fleet';
  action: 'aggregate';
  fleet: string;
  broker: string;
}

type AggregatorRequest = Omit<JoinRequest, 'device' | 'noise' | 'viaAggregator'>;

function aggregatorConfig(request: AggregatorRequest): FleetConfig {
  const parsed = FleetConfigSchema.safeParse({
    broker: request.broker, fleet: request.fleet, device: '_aggregator', joinedAt: new Date().toISOString(),
    ...(request.credentialsFile ? { credentialsFile: request.credentialsFile } : {}),
    ...(request.ca ? { ca: request.ca } : {}),
    ...(request.cert ? { cert: request.cert } : {}),
    ...(request.key ? { key: request.key } : {}),
  });
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  return parsed.data;
}

async function aggregateRound(config: FleetConfig, unlessSources?: string): Promise<FleetAggregateResult | null> {
  const transport = await FleetTransport.connect({ url: config.broker, credentials: loadCredentials(config), device: 'aggregator' });
  try {
    const result = await aggregateOnce(transport, config.fleet, unlessSources);
    return result && { command: 'fleet', action: 'aggregate', fleet: config.fleet, broker: redactUrl(config.broker), ...result };
  } finally {
    await transport.close();
  }
}

/** The aggregator role, once: sum every compatible device message and publish the fleet sum. */
export async function runAggregator(request: AggregatorRequest): Promise<FleetAggregateResult> {
  return (await aggregateRound(aggregatorConfig(request)))!;
}

/**
 * The aggregator role as a service: a round every `everyMs` until `signal` aborts. A round
 * whose device messages are those the last published sum was made of publishes nothing; a
 * round that fails (broker down) is reported and the next one tries again.
 */
export async function runAggregatorEvery(
  request: AggregatorRequest,
  everyMs: number,
  signal: AbortSignal,
  report: (round: { published: FleetAggregateResult } | { failed: string }) => void,
): Promise<void> {
  const config = aggregatorConfig(request);
  let lastSources: string | undefined;
  while (!signal.aborted) {
    try {
      const published = await aggregateRound(config, lastSources);
      if (published) {
        lastSources = published.sourcesSha256;
        report({ published });
      }
    } catch (error) {
      report({ failed: (error as Error).message });
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, everyMs);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
}
