import type { FleetAggregateResult, FleetJoinResult, FleetLeaveResult, FleetStatusResult } from '../engine/use-cases/fleet-commands.js';

export function formatFleetJoin(result: FleetJoinResult): string {
  const lines = [`joined fleet ${result.fleet} at ${result.broker} as device ${result.device}`];
  lines.push(result.reachable ? 'broker reachable' : `broker not reachable now: ${result.reason}`);
  if (result.noise) lines.push(`publishing with Gaussian noise σ = ${result.noise.sigma.toFixed(2)} ((ε = ${result.noise.epsilon}, δ = ${result.noise.delta})-DP per publish)`);
  lines.push("the next 'keizoku update' publishes this device's statistics and merges the others'");
  return lines.join('\n');
}

export function formatFleetLeave(result: FleetLeaveResult): string {
  if (result.left === null) return 'this project is in no fleet';
  return [`left fleet ${result.left}`, result.removedFromBroker ? "this device's statistics were removed from the broker" : result.reason ?? ''].filter(Boolean).join('\n');
}

export function formatFleetStatus(result: FleetStatusResult): string {
  if (!result.joined) return 'not in a fleet (keizoku fleet join --broker URL --fleet NAME)';
  const lines = [`fleet ${result.fleet} at ${result.broker}, this device: ${result.device}`];
  if (!result.reachable) lines.push(`broker unreachable: ${result.reason}`);
  for (const device of result.devices) {
    const mark = device.self ? '*' : ' ';
    const heard = device.lastHeardAt ?? 'never';
    lines.push(`${mark} ${device.device}  v${device.version ?? '?'}  ${device.samples} samples in ${device.classes.length} classes  last heard ${heard}${device.noisy ? '  (noisy)' : ''}`);
    if (device.refused) lines.push(`    refused: ${device.refused}`);
  }
  if (result.head) {
    lines.push(`current version ${result.head.versionId}: ${result.head.status}, includes ${result.head.included.map((s) => `${s.device} v${s.version}`).join(', ') || 'no other device'}`);
    if (result.head.overlap.samples > 0) lines.push(`  ${result.head.overlap.samples} samples on more than one device (${result.head.overlap.corrected} copies subtracted, ${result.head.overlap.uncorrected} not subtractable here)`);
  }
  return lines.join('\n');
}

export function formatFleetAggregate(result: FleetAggregateResult): string {
  const lines = [`fleet ${result.fleet}: summed ${result.included.length} devices into one message of ${(result.bytes / 1e6).toFixed(1)} MB`];
  for (const refused of result.refused) lines.push(`  refused ${refused.device}: ${refused.reason}`);
  return lines.join('\n');
}
