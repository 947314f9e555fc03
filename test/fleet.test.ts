// A fleet on a real Mosquitto broker: three devices hold disjoint parts of a labeled folder,
// exchange statistics, and each ends up with exactly the model one project trains on all the
// images. Then the broker's edge cases: a publisher killed mid-message, a late joiner, a device
// with another backbone, a hostile payload, an image on two devices, a broker that is down, and
// the learners that cannot merge.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateResultSchema, type UpdateResult } from '../main/engine/api/contract.js';
import { decodeFleetMessage, encodeFleetMessage } from '../main/engine/fleet/message.js';
import { statisticsOfState } from '../main/engine/fleet/merge.js';
import { sha256 } from '../main/engine/fleet/exchange.js';
import { FleetTransport } from '../main/engine/fleet/transport.js';
import type { ComposedState } from '../main/engine/learners/compose.js';
import type { AnalyticState } from '../main/engine/learners/analytic.js';
import type { LearnerState } from '../main/engine/learners/learner.js';
import { Project, type ProjectOptions } from '../main/engine/project/project.js';
import { fleetStatus, joinFleet, leaveFleet, runAggregator } from '../main/engine/use-cases/fleet-commands.js';
import { loadHeadModel } from '../main/engine/use-cases/head-model.js';
import { runPredict } from '../main/engine/use-cases/predict.js';
import { runUpdate } from '../main/engine/use-cases/update.js';
import { CALTECH_DIR, CORAL_DIR, REPO_ROOT } from './support/paths.js';
import { MOSQUITTO_AVAILABLE, MOSQUITTO_REQUIRED, MOSQUITTO_SKIP_REASON, startMosquitto, type Broker } from './support/mosquitto.js';
import { runCli, startCli, tempDir, TEST_CACHE_DIR } from './support/project.js';

if (!MOSQUITTO_AVAILABLE && MOSQUITTO_REQUIRED) throw new Error(`KEIZOKU_REQUIRE_MOSQUITTO=1 but ${MOSQUITTO_SKIP_REASON}`);
if (!MOSQUITTO_AVAILABLE) console.warn(`fleet tests skipped: ${MOSQUITTO_SKIP_REASON}`);

const FLEET = 'lab';
const SHARED_CLASSES = ['airplanes', 'butterfly', 'chair'];
const PER_CLASS = 18;

const open = (root: string, extra: Partial<ProjectOptions> = {}) => Project.open({ root, modelDir: CORAL_DIR, cacheDir: TEST_CACHE_DIR, device: 'cpu', ...extra });

async function withProject<T>(root: string, fn: (project: Project) => Promise<T> | T, extra: Partial<ProjectOptions> = {}): Promise<T> {
  const project = open(root, extra);
  try {
    return await fn(project);
  } finally {
    project.close();
  }
}

const update = (root: string, extra: Partial<ProjectOptions> = {}): Promise<UpdateResult> => withProject(root, async (project) => UpdateResultSchema.parse(await runUpdate(project)), extra);

/** The head model's ridge weights by class, and the training members of the head version. */
async function headWeights(root: string) {
  return withProject(root, async (project) => {
    const { state, version } = await loadHeadModel(project);
    const core = (state as ComposedState<AnalyticState>).core;
    const C = core.classNames.length;
    const byClass = new Map<string, Float64Array>();
    core.classNames.forEach((name, c) => byClass.set(name, Float64Array.from({ length: core.dim + 1 }, (_, r) => core.weights[r * C + c]!)));
    const members = project.store.versions.members(version.id).map((m) => `${m.className}/${m.contentHash}`);
    return { byClass, counts: new Map(core.classNames.map((name, c) => [name, core.counts[c]!])), members };
  });
}

function maxRelativeDifference(a: Map<string, Float64Array>, b: Map<string, Float64Array>): number {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  let scale = 0;
  let diff = 0;
  for (const [name, column] of a) {
    const other = b.get(name)!;
    for (let i = 0; i < column.length; i++) {
      scale = Math.max(scale, Math.abs(other[i]!));
      diff = Math.max(diff, Math.abs(column[i]! - other[i]!));
    }
  }
  return diff / scale;
}

const testImages = (() => {
  const files: string[] = [];
  for (const className of [...SHARED_CLASSES, 'ketch']) {
    const dir = path.join(CALTECH_DIR, 'test', className);
    files.push(...readdirSync(dir).sort().slice(0, 4).map((file) => path.join(dir, file)));
  }
  return files;
})();

async function predictions(root: string) {
  return withProject(root, async (project) => (await runPredict(project, testImages, 3)).predictions.map((p) => p.top.map((t) => ({ className: t.className, score: t.score }))));
}

function expectSamePredictions(a: Awaited<ReturnType<typeof predictions>>, b: Awaited<ReturnType<typeof predictions>>) {
  expect(a.map((p) => p.map((t) => t.className))).toEqual(b.map((p) => p.map((t) => t.className)));
  a.forEach((p, i) => p.forEach((t, k) => expect(Math.abs(t.score - b[i]![k]!.score)).toBeLessThan(1e-5)));
}

/** Copies Caltech train images of `className` (sorted, those in [from, to)) whose index ≡ part (mod parts) into root/className. */
function addPart(root: string, className: string, part: number, parts: number, to = PER_CLASS, from = 0): void {
  const source = path.join(CALTECH_DIR, 'train', className);
  mkdirSync(path.join(root, className), { recursive: true });
  readdirSync(source).sort().slice(from, to).forEach((file, i) => {
    if (i % parts === part) copyFileSync(path.join(source, file), path.join(root, className, file));
  });
}

describe.skipIf(!MOSQUITTO_AVAILABLE)('a fleet of devices sharing statistics through Mosquitto', () => {
  let broker: Broker;
  const devices = ['dev-a', 'dev-b', 'dev-c'] as const;
  const roots = Object.fromEntries(devices.map((id) => [id, tempDir(`keizoku-fleet-${id}-`)])) as Record<(typeof devices)[number], string>;

  beforeAll(async () => {
    broker = await startMosquitto();
    for (const className of SHARED_CLASSES) devices.forEach((id, i) => addPart(roots[id], className, i, devices.length));
    // A class only the late joiner has.
    addPart(roots['dev-c'], 'ketch', 0, 1, 12);
  });
  afterAll(async () => {
    await broker?.stop();
  });

  /**
   * One project holding every device's training images (held-out images stay on their device,
   * so they are in no model), trained on all of them: what the fleet must equal.
   */
  async function referenceOfDevices(): Promise<{ root: string; result: UpdateResult }> {
    const root = tempDir('keizoku-fleet-ref-');
    for (const id of devices) {
      await withProject(roots[id], (project) => {
        for (const row of project.store.samples.all()) {
          if (row.split !== 'train') continue;
          mkdirSync(path.join(root, row.className), { recursive: true });
          copyFileSync(path.join(roots[id], row.relPath), path.join(root, row.className, `${id}-${path.basename(row.relPath)}`));
        }
      });
    }
    return { root, result: await update(root, { heldOutFraction: 0 }) };
  }

  const join = (id: (typeof devices)[number]) => withProject(roots[id], (project) => joinFleet(project, { broker: broker.url, fleet: FLEET, device: id }));

  it('three devices with disjoint parts end with the one-project model: equal weights, identical predictions', async () => {
    for (const id of ['dev-a', 'dev-b'] as const) expect((await join(id)).reachable).toBe(true);
    const first = await update(roots['dev-a']);
    expect(first.fleet).toMatchObject({ status: 'merged', device: 'dev-a', devices: [], refused: [] });
    const second = await update(roots['dev-b']);
    expect(second.fleet!.devices.map((d) => d.device)).toEqual(['dev-a']);

    // The late joiner: joins after both published, and its first update receives both.
    await join('dev-c');
    const late = await update(roots['dev-c']);
    expect(late.fleet!.devices.map((d) => d.device)).toEqual(['dev-a', 'dev-b']);
    expect(late.classes.added.sort()).toEqual([...SHARED_CLASSES, 'ketch'].sort());
    // Held-out evaluation stays on the device: only its own held-out samples.
    expect(late.samples.heldOut).toBeGreaterThan(0);
    expect(late.metrics.overall).not.toBeNull();

    // The first two catch up with everyone's latest.
    const a2 = await update(roots['dev-a']);
    const b2 = await update(roots['dev-b']);
    expect(a2.fleet!.devices.map((d) => d.device)).toEqual(['dev-b', 'dev-c']);
    expect(b2.fleet!.devices.map((d) => d.device)).toEqual(['dev-a', 'dev-c']);
    const { root: reference, result: ref } = await referenceOfDevices();
    expect(a2.fleet!.fleetSamples).toBe(ref.samples.train);
    const refModel = await headWeights(reference);
    const union = (await Promise.all(devices.map((id) => headWeights(roots[id])))).flatMap((model) => model.members);
    expect(union.sort()).toEqual([...refModel.members].sort());
    const refPredictions = await predictions(reference);
    for (const id of devices) {
      const model = await headWeights(roots[id]);
      expect(model.counts).toEqual(refModel.counts);
      expect(maxRelativeDifference(model.byClass, refModel.byClass)).toBeLessThan(1e-9);
      expectSamePredictions(await predictions(roots[id]), refPredictions);
    }

    // Nothing new anywhere: the same messages, so the head is kept.
    expect((await update(roots['dev-c'])).status).toBe('unchanged');
  });

  it('fleet status lists every device with its classes, counts and when it was last heard from (CLI --json)', async () => {
    const result = runCli(['fleet', 'status', '--root', roots['dev-a'], '--json']);
    expect(result.status, result.stderr).toBe(0);
    const status = result.json();
    expect(status).toMatchObject({ command: 'fleet', action: 'status', joined: true, fleet: FLEET, device: 'dev-a', reachable: true });
    expect(status.devices.map((d: { device: string }) => d.device)).toEqual(['dev-a', 'dev-b', 'dev-c']);
    const c = status.devices.find((d: { device: string }) => d.device === 'dev-c');
    expect(c.classes.map((k: { name: string }) => k.name).sort()).toEqual([...SHARED_CLASSES, 'ketch'].sort());
    expect(Number.isNaN(Date.parse(c.lastHeardAt))).toBe(false);
    expect(status.head.included.map((s: { device: string }) => s.device)).toEqual(['dev-b', 'dev-c']);
  });

  it('refuses, with the reason, a device on another backbone and a payload that is not a fleet message; sums the rest', async () => {
    // A well-formed message from a device whose features come from another backbone.
    const foreign = await withProject(roots['dev-b'], async (project) => {
      const { state } = await loadHeadModel(project);
      const stats = statisticsOfState('analytic', state as LearnerState, { key: 'efficientnet-lite0-int8', precision: 'int8', featureDim: 1280 }, []);
      return encodeFleetMessage({ fleet: FLEET, device: 'other-backbone', version: 1, publishedAt: new Date().toISOString() }, { ...stats, sketch: stats.classNames.map(() => []), counts: stats.counts.map(() => 0) });
    });
    const transport = await FleetTransport.connect({ url: broker.url, credentials: {}, device: 'test' });
    try {
      await transport.publish(FLEET, 'other-backbone', foreign);
      await transport.publish(FLEET, 'garbage', new TextEncoder().encode('KZF1 definitely not deflate'));
    } finally {
      await transport.close();
    }
    // Something new locally, so the update commits.
    addPart(roots['dev-a'], 'chair', 0, 1, PER_CLASS + 3, PER_CLASS);
    const result = await update(roots['dev-a']);
    expect(result.status).toBe('committed');
    expect(result.fleet!.devices.map((d) => d.device)).toEqual(['dev-b', 'dev-c']);
    const refused = new Map(result.fleet!.refused.map((r) => [r.device, r.reason]));
    expect(refused.get('other-backbone')).toMatch(/backbone "efficientnet-lite0-int8"/);
    expect(refused.get('garbage')).toMatch(/decompress/);
    const { root: reference } = await referenceOfDevices();
    expect(maxRelativeDifference((await headWeights(roots['dev-a'])).byClass, (await headWeights(reference)).byClass)).toBeLessThan(1e-9);
    await withProject(roots['dev-a'], async (project) => {
      const status = await fleetStatus(project);
      expect(status.devices.find((d) => d.device === 'other-backbone')!.refused).toMatch(/backbone/);
    });
  });

  it('a device killed mid-publish leaves its previous message whole, or none', async () => {
    const before = await retained(broker, 'dev-b');
    expect(before).toBeDefined();
    for (const device of ['dev-b', 'never-published']) {
      const child = spawn(process.execPath, [path.join(REPO_ROOT, 'test', 'support', 'partial-publish.mjs'), String(broker.port), `keizoku/${FLEET}/${device}/stats`, String(4 << 20)], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout!.setEncoding('utf8').on('data', (chunk: string) => chunk.includes('HALF-SENT') && resolve());
        child.once('exit', (code) => reject(new Error(`partial publisher exited early (${code})`)));
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    expect(sha256((await retained(broker, 'dev-b'))!)).toBe(sha256(before!));
    expect(await retained(broker, 'never-published')).toBeUndefined();
    // And the fleet still merges: the same messages as before, so nothing to do.
    expect((await update(roots['dev-a'])).status).toBe('unchanged');
  });

  it('through the aggregator a device reads one message, the fleet sum, and still gets the exact model', async () => {
    const aggregated = await runAggregator({ broker: broker.url, fleet: FLEET });
    expect(aggregated.included.map((entry) => entry.device)).toEqual(['dev-a', 'dev-b', 'dev-c']);
    expect(new Map(aggregated.refused.map((r) => [r.device, r.reason])).get('other-backbone')).toMatch(/backbone/);
    await withProject(roots['dev-a'], (project) => joinFleet(project, { broker: broker.url, fleet: FLEET, device: 'dev-a', viaAggregator: true }));
    addPart(roots['dev-a'], 'chair', 0, 1, PER_CLASS + 5, PER_CLASS + 3);
    const result = await update(roots['dev-a']);
    expect(result.status).toBe('committed');
    expect(result.fleet).toMatchObject({ status: 'merged', via: 'aggregator' });
    expect(result.fleet!.devices.map((d) => d.device)).toEqual(['_sum']);
    expect(result.fleet!.aggregateIncludes!.map((d) => d.device)).toEqual(['dev-b', 'dev-c']);
    const { root: reference } = await referenceOfDevices();
    expect(maxRelativeDifference((await headWeights(roots['dev-a'])).byClass, (await headWeights(reference)).byClass)).toBeLessThan(1e-9);
    // Back to reading every device, for what follows.
    await withProject(roots['dev-a'], (project) => joinFleet(project, { broker: broker.url, fleet: FLEET, device: 'dev-a' }));
  });

  it('a running aggregator (fleet aggregate --every) republishes when a device message changes, is quiet otherwise, and ends on SIGINT', async () => {
    const run = startCli(['fleet', 'aggregate', '--broker', broker.url, '--fleet', FLEET, '--every', '1', '--json']);
    const rounds = () => run.output().stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { included: Array<{ device: string }>; sourcesSha256: string });
    const devicesIn = (round: { included: Array<{ device: string }> }) => round.included.map((entry) => entry.device);
    const sumOnBroker = async () => {
      const sum = await retained(broker, '_sum');
      return sum && decodeFleetMessage(sum).header.includes?.map((entry) => entry.device);
    };
    const poll = { timeout: 60_000, interval: 200 };
    try {
      await expect.poll(() => rounds().length, poll).toBe(1);
      expect(devicesIn(rounds()[0]!)).toEqual(['dev-a', 'dev-b', 'dev-c']);
      // Idle rounds (the same device messages) publish nothing.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(rounds()).toHaveLength(1);
      // A device joins: the next round sums it in; it leaves (its message removed): summed out again.
      const visitor = await retained(broker, 'dev-b');
      const transport = await FleetTransport.connect({ url: broker.url, credentials: {}, device: 'test' });
      try {
        const message = decodeFleetMessage(visitor!);
        await transport.publish(FLEET, 'visitor', encodeFleetMessage({ ...message.header, device: 'visitor' }, message.statistics));
        await expect.poll(() => rounds().length, poll).toBe(2);
        expect(devicesIn(rounds()[1]!)).toEqual(['dev-a', 'dev-b', 'dev-c', 'visitor']);
        expect(await sumOnBroker()).toEqual(['dev-a', 'dev-b', 'dev-c', 'visitor']);
        await transport.publish(FLEET, 'visitor', new Uint8Array(0));
        await expect.poll(() => rounds().length, poll).toBe(3);
        expect(devicesIn(rounds()[2]!)).toEqual(['dev-a', 'dev-b', 'dev-c']);
        expect(rounds()[2]!.sourcesSha256).toBe(rounds()[0]!.sourcesSha256);
        expect(await sumOnBroker()).toEqual(['dev-a', 'dev-b', 'dev-c']);
      } finally {
        await transport.close();
      }
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('an image on two devices is counted once where it is present, and the overlap is reported', async () => {
    // One of dev-a's training images, copied into dev-b's folder of the same class.
    const shared = await withProject(roots['dev-a'], (project) => project.store.samples.all().find((row) => row.className === 'airplanes' && row.split === 'train')!);
    copyFileSync(path.join(roots['dev-a'], shared.relPath), path.join(roots['dev-b'], 'airplanes', 'copy-of-a.jpg'));
    const b = await update(roots['dev-b']);
    expect(b.fleet!.overlap).toEqual({ samples: 1, corrected: 1, uncorrected: 0 });
    const a = await update(roots['dev-a']);
    expect(a.fleet!.overlap).toEqual({ samples: 1, corrected: 1, uncorrected: 0 });
    // The one project holds the image once (the same content twice in a class is one sample).
    const refModel = await headWeights((await referenceOfDevices()).root);
    for (const id of ['dev-a', 'dev-b'] as const) {
      const model = await headWeights(roots[id]);
      expect(model.counts).toEqual(refModel.counts);
      expect(maxRelativeDifference(model.byClass, refModel.byClass)).toBeLessThan(1e-9);
    }
    // dev-c lacks the image, so it cannot subtract the copy: it says so.
    const c = await update(roots['dev-c']);
    expect(c.fleet!.overlap).toEqual({ samples: 1, corrected: 0, uncorrected: 1 });
  });

  it('with the broker down the update runs on local data and says the fleet part was skipped', async () => {
    await broker.stop();
    addPart(roots['dev-c'], 'ketch', 0, 1, 14, 12);
    const result = await update(roots['dev-c']);
    expect(result.status).toBe('committed');
    expect(result.fleet).toMatchObject({ status: 'skipped', devices: [] });
    expect(result.fleet!.reason).toMatch(/skipped.*local data only/);
    expect(result.classes.total).toBe(4);
  });

  it('replay and finetune refuse fleet mode with a clear message', async () => {
    const root = tempDir('keizoku-fleet-replay-');
    addPart(root, 'chair', 0, 1, 4);
    await expect(withProject(root, (project) => joinFleet(project, { broker: 'mqtt://127.0.0.1:1', fleet: FLEET, device: 'r' }), { learner: 'replay' })).rejects.toThrow(
      /replay learner cannot join a fleet.*merged exactly/,
    );
    await expect(withProject(root, (project) => joinFleet(project, { broker: 'mqtt://127.0.0.1:1', fleet: FLEET, device: 'f' }), { learner: 'finetune' })).rejects.toThrow(
      /finetune learner cannot join a fleet/,
    );
    // Joined with analytic, then updated with replay: refused before anything is learned.
    const joined = await withProject(root, (project) => joinFleet(project, { broker: 'mqtt://127.0.0.1:1', fleet: FLEET, device: 'r' }));
    expect(joined.reachable).toBe(false);
    await expect(update(root, { learner: 'replay' })).rejects.toThrow(/replay learner cannot join a fleet/);
    const left = await withProject(root, (project) => leaveFleet(project));
    expect(left).toMatchObject({ left: FLEET, removedFromBroker: false });
  });

  it('the CLI joins with --device as the fleet device id, keeps secrets out of argv, and leaves', () => {
    const root = tempDir('keizoku-fleet-cli-');
    addPart(root, 'chair', 0, 1, 2);
    const joined = runCli(['fleet', 'join', '--root', root, '--broker', 'mqtt://127.0.0.1:1', '--fleet', FLEET, '--device', 'cli-device', '--json']);
    expect(joined.status, joined.stderr).toBe(0);
    expect(joined.json()).toMatchObject({ command: 'fleet', action: 'join', fleet: FLEET, device: 'cli-device', reachable: false, noise: null, viaAggregator: false });
    const withPassword = runCli(['fleet', 'join', '--root', root, '--broker', 'mqtt://user:secret@127.0.0.1:1', '--fleet', FLEET, '--json']);
    expect(withPassword.status).toBe(2);
    expect(withPassword.json().error.message).toMatch(/no password in the broker URL/);
    expect(runCli(['fleet', 'wander', '--root', root]).status).toBe(2);
    const left = runCli(['fleet', 'leave', '--root', root, '--json']);
    expect(left.status, left.stderr).toBe(0);
    expect(left.json()).toMatchObject({ action: 'leave', left: FLEET, removedFromBroker: false });
    expect(runCli(['fleet', 'status', '--root', root, '--json']).json()).toMatchObject({ joined: false, devices: [] });
  });
});

async function retained(broker: Broker, device: string): Promise<Buffer | undefined> {
  const transport = await FleetTransport.connect({ url: broker.url, credentials: {}, device: 'probe' });
  try {
    return (await transport.fetchAll(FLEET, device)).find((m) => m.device === device)?.payload;
  } finally {
    await transport.close();
  }
}
