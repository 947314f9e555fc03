// The aggregator role, for fleets past a few hundred devices: one process reads every device's
// retained message, sums the compatible ones and publishes the fleet sum once, retained, on
// keizoku/<fleet>/_sum/stats. A device then fetches that one message instead of N, and takes its
// own contribution back out (subtractOwn) before adding its current local statistics, so the
// result is the same sum as from N messages (to float64 rounding).
//
// The sum's sketch is the multiset union of the devices' sketches (entries listed once per
// device holding the sample), so overlap is still detected from it. Devices whose statistics do
// not match the fleet's first device (by name) in learner, backbone, precision, layout or width
// are left out and listed with the reason.

import { createHash } from 'node:crypto';
import { decodeFleetMessage, encodeFleetMessage, type FleetMessage } from './message.js';
import { incompatibility, sumStatistics } from './merge.js';
import { statisticsDigest, type FleetStatistics } from './statistics.js';
import { AGGREGATE_DEVICE, type FleetTransport } from './transport.js';

export interface AggregateIncluded {
  device: string;
  version: number;
  statisticsSha256: string;
}

export interface AggregateResult {
  included: AggregateIncluded[];
  refused: Array<{ device: string; reason: string }>;
  bytes: number;
  /** sha256 over every device message read (device and payload): the same value means the same inputs */
  sourcesSha256: string;
  timingsMs: { receive: number; sum: number; publish: number };
}

/**
 * Sums and publishes. With `unlessSources`, a round whose device messages are exactly those
 * of that digest publishes nothing and answers null (a running aggregator's idle rounds).
 */
export async function aggregateOnce(transport: FleetTransport, fleet: string, unlessSources?: string): Promise<AggregateResult | null> {
  const receiveStarted = performance.now();
  const messages = (await transport.fetchAll(fleet)).filter((m) => !m.device.startsWith('_')).sort((a, b) => (a.device < b.device ? -1 : 1));
  const receiveMs = performance.now() - receiveStarted;
  const sources = createHash('sha256');
  for (const { device, payload } of messages) sources.update(`${device}\0`).update(createHash('sha256').update(payload).digest());
  const sourcesSha256 = sources.digest('hex');
  if (sourcesSha256 === unlessSources) return null;
  const sumStarted = performance.now();
  const accepted: FleetMessage[] = [];
  const refused: AggregateResult['refused'] = [];
  for (const { device, payload } of messages) {
    try {
      const message = decodeFleetMessage(payload);
      if (message.header.device !== device) throw new Error(`published on ${device}'s topic but says it is from "${message.header.device}"`);
      const reason = accepted[0] ? incompatibility(accepted[0].statistics, message.statistics) : null;
      if (reason) throw new Error(`not summed: it has ${reason}`);
      if (message.header.noise) throw new Error('noisy messages are summed by each device, not the aggregator');
      accepted.push(message);
    } catch (error) {
      refused.push({ device, reason: (error as Error).message });
    }
  }
  if (accepted.length === 0) {
    // Nothing to sum (every device left, or none fits): remove a sum that would be stale.
    const publishStarted = performance.now();
    await transport.publish(fleet, AGGREGATE_DEVICE, new Uint8Array(0));
    return { included: [], refused, bytes: 0, sourcesSha256, timingsMs: { receive: receiveMs, sum: performance.now() - sumStarted, publish: performance.now() - publishStarted } };
  }
  const first = accepted[0]!.statistics;
  const parts = accepted.map((m) => m.statistics);
  const classNames = [...new Set(parts.flatMap((p) => p.classNames))].sort();
  const summed = sumStatistics(first.learner, first.dim, parts, classNames);
  const sketch = classNames.map((name) => parts.flatMap((p) => p.sketch[p.classNames.indexOf(name)] ?? []).sort());
  const included = accepted.map((m) => ({ device: m.header.device, version: m.header.version, statisticsSha256: statisticsDigest(m.statistics) }));
  const total: FleetStatistics = { ...first, classNames, counts: summed.counts, gram: summed.gram, cross: summed.cross, sketch };
  const payload = encodeFleetMessage({ fleet, device: AGGREGATE_DEVICE, version: 1, publishedAt: new Date().toISOString(), includes: included }, total);
  const sumMs = performance.now() - sumStarted;
  const publishStarted = performance.now();
  await transport.publish(fleet, AGGREGATE_DEVICE, payload);
  return { included, refused, bytes: payload.length, sourcesSha256, timingsMs: { receive: receiveMs, sum: sumMs, publish: performance.now() - publishStarted } };
}

/**
 * The fleet sum without `own` (this device's statistics as the aggregate included them): what
 * the other devices contribute. Exact up to float64 rounding of one subtraction.
 */
export function subtractOwn(aggregate: FleetStatistics, own: FleetStatistics): FleetStatistics {
  const rows = aggregate.cross.length / Math.max(1, aggregate.classNames.length);
  const column = new Map(aggregate.classNames.map((name, i) => [name, i]));
  const C = aggregate.classNames.length;
  const gram = aggregate.gram && own.gram ? aggregate.gram.map((v, i) => v - own.gram![i]!) : aggregate.gram;
  const cross = aggregate.cross.slice();
  const counts = [...aggregate.counts];
  const sketch = aggregate.sketch.map((entries) => [...entries]);
  own.classNames.forEach((name, c) => {
    const to = column.get(name);
    if (to === undefined) throw new Error(`the aggregate lacks class "${name}" that it says it includes`);
    counts[to]! -= own.counts[c]!;
    for (let r = 0; r < rows; r++) cross[r * C + to]! -= own.cross[r * own.classNames.length + c]!;
    for (const entry of own.sketch[c] ?? []) {
      const list = sketch[to]!;
      const at = list.indexOf(entry);
      if (at >= 0) list.splice(at, 1);
    }
  });
  // Classes only this device had are gone from the others' part.
  const keep = counts.map((n, c) => (n > 0 ? c : -1)).filter((c) => c >= 0);
  if (keep.length === C) return { ...aggregate, gram, cross, counts, sketch };
  const keptCross = new Float64Array(rows * keep.length);
  for (let r = 0; r < rows; r++) keep.forEach((c, k) => (keptCross[r * keep.length + k] = cross[r * C + c]!));
  return { ...aggregate, gram, cross: keptCross, classNames: keep.map((c) => aggregate.classNames[c]!), counts: keep.map((c) => counts[c]!), sketch: keep.map((c) => sketch[c]!) };
}
