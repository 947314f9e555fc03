// Section `fleet`: what exchanging statistics through a real local Mosquitto costs for 2, 10 and
// 100 simulated devices, directly (every device fetches N messages) and through the aggregator
// (one process sums all and publishes once; a device fetches one message).
//
// Devices are simulated with the default backbone's width (D = 1280, so the Gram matrix is
// 1281², 6.6 MB packed): each holds 10 of 20 classes and 64 samples whose statistics come from
// seeded random unit vectors (transport, compression and summing do not depend on the values;
// random float64s compress about as badly as real ones). Every message goes through the real
// encoder, broker and decoder. Reference: one local ridge solve of the same size, as every
// update does.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { solveRidge } from '../main/engine/learners/analytic.js';
import { seededRandom } from '../main/engine/learners/seeded-random.js';
import { aggregateOnce, subtractOwn } from '../main/engine/fleet/aggregator.js';
import { decodeFleetMessage, encodeFleetMessage } from '../main/engine/fleet/message.js';
import { sumStatistics } from '../main/engine/fleet/merge.js';
import { FEATURE_LAYOUT, sketchEntry, type FleetStatistics } from '../main/engine/fleet/statistics.js';
import { AGGREGATE_DEVICE, FleetTransport } from '../main/engine/fleet/transport.js';
import { getLearner } from '../main/engine/learners/registry.js';
import { noiseRidgeShift, shiftDiagonal, statisticsOfState } from '../main/engine/fleet/merge.js';
import { addGaussianNoise, gaussianSigma } from '../main/engine/fleet/privacy.js';
import { loadBackbone } from './backbone.js';
import { CALTECH, listClasses, listFiles } from './datasets.js';
import { embedSplitCached } from './embedding-cache.js';
import { fixed, ratio } from './markdown.js';
import type { BenchContext, SectionOutput } from './section.js';

const DIM = 1280;
const CLASSES = 20;
const CLASSES_PER_DEVICE = 10;
const SAMPLES_PER_DEVICE = 64;
const FLEET_SIZES = [2, 10, 100] as const;
const MOSQUITTO = process.env.KEIZOKU_MOSQUITTO ?? '/usr/sbin/mosquitto';

interface Row {
  devices: number;
  messageMiB: number;
  publishMs: number;
  receiveAllMs: number;
  decodeSumSolveMs: number;
  directTotalMs: number;
  aggregatorReceiveMs: number;
  aggregatorSumMs: number;
  aggregatorPublishMs: number;
  viaAggregatorMs: number;
}

export async function fleetBench(context: BenchContext): Promise<SectionOutput> {
  const broker = await startBroker();
  try {
    const classNames = Array.from({ length: CLASSES }, (_, i) => `class-${String(i).padStart(2, '0')}`);
    const referenceMs = await timeSolve(classNames.length);
    const rows: Row[] = [];
    for (const n of FLEET_SIZES) {
      context.log(`fleet: ${n} devices`);
      rows.push(await measureFleet(broker.url, n, classNames));
    }
    context.log('fleet: accuracy cost of noise');
    const privacy = await privacyCost(context);
    const referenceRow = ['local ridge solve (reference)', '–', '–', '–', fixed(referenceMs, 0), '–', '–', '–'];
    return {
      title: 'Fleet: exchanging statistics through an MQTT broker',
      method:
        `Simulated devices against a real Mosquitto (${MOSQUITTO}, 127.0.0.1) with the default backbone's width (D = ${DIM}): each device's retained message ` +
        `(compressed Gram upper triangle, class sums, counts, sketch) is encoded, published (QoS 1, retained), received by a device joining afterwards, decoded, summed and solved; ` +
        `then the aggregator role: one process receives all, sums and publishes the fleet sum once, and a device fetches that one message, takes its own part out and solves. ` +
        `Each device holds ${CLASSES_PER_DEVICE} of ${CLASSES} classes and ${SAMPLES_PER_DEVICE} samples; ratios are against one local ridge solve of the same size measured in the same run.`,
      tables: [
        {
          caption: 'Direct: every device fetches every message',
          headers: ['devices', 'message MB', 'publish one (ms)', 'receive all (ms)', 'decode + sum + solve (ms)', 'total (ms)', 'total / local solve'],
          align: ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
          rows: [
            ...rows.map((row) => [String(row.devices), fixed(row.messageMiB * 1.048576, 1), fixed(row.publishMs, 0), fixed(row.receiveAllMs, 0), fixed(row.decodeSumSolveMs, 0), fixed(row.directTotalMs, 0), ratio(row.directTotalMs, referenceMs)]),
            referenceRow.slice(0, 7),
          ],
          reading: [
            'Receiving and decoding grow linearly with the fleet: each message is a few MB of float64 that barely compresses, and the device holds every decoded message before summing.',
          ],
        },
        {
          caption: 'Through the aggregator: one process sums, devices fetch one message',
          headers: ['devices', 'aggregator receive (ms)', 'aggregator sum + encode (ms)', 'aggregator publish (ms)', 'device: fetch sum + solve (ms)', 'device vs direct'],
          align: ['l', 'r', 'r', 'r', 'r', 'r'],
          rows: rows.map((row) => [
            String(row.devices), fixed(row.aggregatorReceiveMs, 0), fixed(row.aggregatorSumMs, 0), fixed(row.aggregatorPublishMs, 0), fixed(row.viaAggregatorMs, 0), ratio(row.viaAggregatorMs, row.directTotalMs),
          ]),
          reading: [
            'A device\'s cost through the aggregator stays that of one message whatever the fleet size; the aggregator pays the linear part once for everyone. Past a few hundred devices the direct path would hold hundreds of decoded Gram matrices (13 MB each) per device.',
          ],
        },
        {
          caption: `Accuracy cost of Gaussian noise (Caltech-101, ${PRIVACY_CLASSES} classes, 3 devices, δ = ${PRIVACY_DELTA})`,
          headers: ['what device 0 sums', 'σ', 'diagonal shift', 'test top-1 (%)', 'vs exact fleet'],
          align: ['l', 'r', 'r', 'r', 'r'],
          rows: privacy.map((row) => [row.label, row.sigma === null ? '–' : fixed(row.sigma, 1), fixed(row.lambdaShift, 0), fixed(row.accuracy * 100, 1), ratio(row.accuracy, privacy[0]!.accuracy)]),
          reading: [
            'Device 0 sums its exact statistics with the other two devices\' noisy ones (ε per publish, Gaussian mechanism, sensitivity √7); a diagonal shift of 2σ√(D+1) keeps the noisy Gram positive definite, as update does. ' +
              '"local only" is what device 0 would have without the fleet. Per-sample DP over a 1281² Gram matrix is expensive at these fleet sizes: read the ε rows against "local only" before turning noise on.',
          ],
        },
      ],
      data: { referenceMs, rows, privacy, dim: DIM, classes: CLASSES, classesPerDevice: CLASSES_PER_DEVICE, samplesPerDevice: SAMPLES_PER_DEVICE },
    };
  } finally {
    await broker.stop();
  }
}

async function measureFleet(url: string, n: number, classNames: readonly string[]): Promise<Row> {
  const fleet = `bench-${n}`;
  const base = baseStatistics(classNames);
  let publishTotal = 0;
  let messageBytes = 0;
  for (let i = 0; i < n; i++) {
    const stats = deviceStatistics(base, classNames, i);
    const started = performance.now();
    const payload = encodeFleetMessage({ fleet, device: `device-${i}`, version: 1, publishedAt: new Date().toISOString() }, stats);
    const transport = await FleetTransport.connect({ url, credentials: {}, device: `device-${i}` });
    await transport.publish(fleet, `device-${i}`, payload);
    await transport.close();
    publishTotal += performance.now() - started;
    messageBytes = payload.length;
  }

  // Direct: a device joining now receives all N, decodes, sums and solves.
  const directStarted = performance.now();
  const joiner = await FleetTransport.connect({ url, credentials: {}, device: 'joiner' });
  const messages = await joiner.fetchAll(fleet);
  await joiner.close();
  const receiveAllMs = performance.now() - directStarted;
  const decodeStarted = performance.now();
  const parts = messages.map((m) => decodeFleetMessage(m.payload).statistics);
  const summed = sumStatistics('analytic', DIM, parts, classNames);
  await solveRidge(summed.gram!, summed.cross, DIM, classNames.length, 0.5);
  const decodeSumSolveMs = performance.now() - decodeStarted;
  const directTotalMs = performance.now() - directStarted;
  parts.length = 0;

  // Aggregator.
  const aggregator = await FleetTransport.connect({ url, credentials: {}, device: 'aggregator' });
  const aggregate = (await aggregateOnce(aggregator, fleet))!;
  await aggregator.close();
  if (aggregate.included.length !== n) throw new Error(`aggregator summed ${aggregate.included.length} of ${n} devices`);

  // A device through the aggregator: one message, its own part out, its current part in, solve.
  const own = deviceStatistics(base, classNames, 0);
  const viaStarted = performance.now();
  const device = await FleetTransport.connect({ url, credentials: {}, device: 'device-0' });
  const [sumMessage] = await device.fetchAll(fleet, AGGREGATE_DEVICE);
  await device.close();
  const others = subtractOwn(decodeFleetMessage(sumMessage!.payload).statistics, own);
  const merged = sumStatistics('analytic', DIM, [others, own], classNames);
  await solveRidge(merged.gram!, merged.cross, DIM, classNames.length, 0.5);
  const viaAggregatorMs = performance.now() - viaStarted;

  // Leave the broker empty for the next fleet size.
  const cleaner = await FleetTransport.connect({ url, credentials: {}, device: 'cleaner' });
  for (let i = 0; i < n; i++) await cleaner.publish(fleet, `device-${i}`, new Uint8Array(0));
  await cleaner.publish(fleet, AGGREGATE_DEVICE, new Uint8Array(0));
  await cleaner.close();

  return {
    devices: n,
    messageMiB: messageBytes / 2 ** 20,
    publishMs: publishTotal / n,
    receiveAllMs,
    decodeSumSolveMs,
    directTotalMs,
    aggregatorReceiveMs: aggregate.timingsMs.receive,
    aggregatorSumMs: aggregate.timingsMs.sum,
    aggregatorPublishMs: aggregate.timingsMs.publish,
    viaAggregatorMs,
  };
}

/** Statistics of SAMPLES_PER_DEVICE seeded random unit vectors, all in one class (the per-device copies spread them). */
function baseStatistics(classNames: readonly string[]): { gram: Float64Array; column: Float64Array } {
  const random = seededRandom(7);
  const d1 = DIM + 1;
  const gram = new Float64Array(d1 * d1);
  const column = new Float64Array(d1);
  const x = new Float64Array(d1);
  for (let s = 0; s < SAMPLES_PER_DEVICE; s++) {
    let norm = 0;
    for (let j = 0; j < DIM; j++) {
      x[j] = random() - 0.5;
      norm += x[j]! ** 2;
    }
    for (let j = 0; j < DIM; j++) x[j]! /= Math.sqrt(norm);
    x[DIM] = 1;
    for (let i = 0; i < d1; i++) {
      const xi = x[i]!;
      column[i]! += xi;
      for (let j = i; j < d1; j++) gram[i * d1 + j]! += xi * x[j]!;
    }
  }
  void classNames;
  return { gram, column };
}

/** Device i: the base statistics scaled by its own factor, spread over its CLASSES_PER_DEVICE classes. */
function deviceStatistics(base: { gram: Float64Array; column: Float64Array }, classNames: readonly string[], i: number): FleetStatistics {
  const scale = 1 + i / 997;
  const own = Array.from({ length: CLASSES_PER_DEVICE }, (_, k) => classNames[(i + k) % classNames.length]!).sort();
  const d1 = DIM + 1;
  const C = own.length;
  const cross = new Float64Array(d1 * C);
  for (let r = 0; r < d1; r++) for (let c = 0; c < C; c++) cross[r * C + c] = (base.column[r]! * scale) / C;
  const perClass = SAMPLES_PER_DEVICE / C;
  return {
    learner: 'analytic', backbone: 'bench-backbone', precision: 'int8', featureLayout: FEATURE_LAYOUT, dim: DIM,
    classNames: own,
    counts: own.map((_, c) => Math.floor(perClass) + (c < SAMPLES_PER_DEVICE % C ? 1 : 0)),
    gram: base.gram.map((v) => v * scale),
    cross,
    sketch: own.map((name, c) => Array.from({ length: Math.floor(perClass) + (c < SAMPLES_PER_DEVICE % C ? 1 : 0) }, (_, k) => sketchEntry(`${i}/${name}/${k}`)).sort()),
  };
}

const PRIVACY_CLASSES = 20;
const PRIVACY_DELTA = 1e-5;
const PRIVACY_EPSILONS = [1, 0.5, 0.1] as const;

interface PrivacyRow {
  label: string;
  sigma: number | null;
  lambdaShift: number;
  accuracy: number;
}

/** Real Caltech features split over 3 devices; device 0's model from exact / noisy remote statistics. */
async function privacyCost(context: BenchContext): Promise<PrivacyRow[]> {
  const { extractor, session, backbone } = await loadBackbone(context.cacheDir);
  try {
    const classes = listClasses(CALTECH.dir, 'train').slice(0, PRIVACY_CLASSES);
    const train = await embedSplitCached(listFiles(CALTECH.dir, 'train', classes), extractor, backbone.key);
    const test = await embedSplitCached(listFiles(CALTECH.dir, 'test', classes), extractor, backbone.key);
    const learner = getLearner('analytic');
    const dim = train.dim;
    const identity = { key: backbone.key, precision: backbone.precision ?? 'float', featureDim: dim };
    const deviceStats: FleetStatistics[] = [];
    for (let device = 0; device < 3; device++) {
      const rows = Array.from({ length: train.count }, (_, i) => i).filter((i) => i % 3 === device);
      const features = new Float32Array(rows.length * dim);
      rows.forEach((row, k) => features.set(train.features.subarray(row * dim, (row + 1) * dim), k * dim));
      const labels = rows.map((row) => train.labels[row]!);
      const state = await learner.update(null, { classNames: classes, added: { features, labels, count: rows.length, dim }, removed: { features: new Float32Array(0), labels: [], count: 0, dim } });
      deviceStats.push(statisticsOfState('analytic', state, identity, []));
    }
    const accuracyOf = async (parts: readonly FleetStatistics[], lambdaShift: number) => {
      const summed = sumStatistics('analytic', dim, parts, classes);
      shiftDiagonal(summed.gram!, dim + 1, lambdaShift);
      const weights = await solveRidge(summed.gram!, summed.cross, dim, classes.length, 0.5);
      return topOne(weights, test.features, test.labels, test.count, dim, classes);
    };
    const rows: PrivacyRow[] = [
      { label: 'exact fleet (no noise)', sigma: null, lambdaShift: 0, accuracy: await accuracyOf(deviceStats, 0) },
    ];
    for (const epsilon of PRIVACY_EPSILONS) {
      const sigma = gaussianSigma(epsilon, PRIVACY_DELTA);
      const noisy = deviceStats.slice(1).map((stats) => ({ ...addGaussianNoise(stats, sigma), noiseSigma: sigma }));
      const shift = noiseRidgeShift(noisy, dim);
      rows.push({ label: `others noisy, ε = ${epsilon}`, sigma, lambdaShift: shift, accuracy: await accuracyOf([deviceStats[0]!, ...noisy], shift) });
    }
    rows.push({ label: 'local only (device 0 alone)', sigma: null, lambdaShift: 0, accuracy: await accuracyOf([deviceStats[0]!], 0) });
    return rows;
  } finally {
    await session.release();
  }
}

/** Top-1 accuracy of ridge weights on L2-normalized features (the learner's predict, in plain JS). */
function topOne(weights: Float64Array, features: Float32Array, labels: readonly string[], count: number, dim: number, classes: readonly string[]): number {
  const C = classes.length;
  let correct = 0;
  for (let s = 0; s < count; s++) {
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += features[s * dim + j]! ** 2;
    const inverse = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    let best = -Infinity;
    let bestClass = -1;
    for (let c = 0; c < C; c++) {
      let score = weights[dim * C + c]!;
      for (let j = 0; j < dim; j++) score += features[s * dim + j]! * inverse * weights[j * C + c]!;
      if (score > best) {
        best = score;
        bestClass = c;
      }
    }
    if (classes[bestClass] === labels[s]) correct++;
  }
  return correct / count;
}

async function timeSolve(classes: number): Promise<number> {
  const base = baseStatistics([]);
  const cross = new Float64Array((DIM + 1) * classes);
  for (let r = 0; r <= DIM; r++) for (let c = 0; c < classes; c++) cross[r * classes + c] = base.column[r]! / classes;
  await solveRidge(base.gram, cross, DIM, classes, 0.5); // warm-up: ORT sessions
  const started = performance.now();
  await solveRidge(base.gram, cross, DIM, classes, 0.5);
  return performance.now() - started;
}

async function startBroker(): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'keizoku-bench-mosquitto-'));
  const port = await new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: chosen } = server.address() as net.AddressInfo;
      server.close(() => resolve(chosen));
    });
  });
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\n`);
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `mqtt://127.0.0.1:${port}`;
  for (let tries = 0; ; tries++) {
    try {
      const probe = await FleetTransport.connect({ url, credentials: {}, device: 'probe', timeoutMs: 1000 });
      await probe.close();
      break;
    } catch (error) {
      if (tries > 100 || child.exitCode !== null) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
