// Section `peers`: Keizoku against Teachable Machine's published library on the same photos in the
// same run. Keizoku: two real `runUpdate`s on a project folder (8 classes, then 2 more added) and
// `runEvaluateFolder` on the test photos. Teachable Machine: @teachablemachine/image in Debian's
// Chromium (bench/peers-tm.ts), a model from scratch on 8 classes, then from scratch again on all
// 10 (its web app retrains everything), scored with its own predict() on the same test photos.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { UpdateResult } from '../main/engine/api/contract.js';
import { Project } from '../main/engine/project/project.js';
import { runEvaluateFolder } from '../main/engine/use-cases/evaluate-folder.js';
import { runUpdate } from '../main/engine/use-cases/update.js';
import { resolveDefaultBackbone } from './backbone.js';
import { CALTECH, listClasses, listFiles } from './datasets.js';
import { fixed, mib, pct, ratio } from './markdown.js';
import { measurePeakMemory } from './memory-sampler.js';
import { MODEL_MIRROR_DIR, SHARED_DIR } from './paths.js';
import {
  descendantRss,
  openTmPage,
  packageVersion,
  TF_PACKAGE,
  TM_PACKAGE,
  TM_PARAMS,
  tmCheckBase,
  tmInfo,
  tmLoadPhotos,
  tmPredict,
  tmSetBackend,
  tmTrain,
  type TmStep,
} from './peers-tm.js';
import type { BenchContext, SectionOutput } from './section.js';

const CLASSES = 10;
const ADDED = 2;
const MIN_TRAIN = 30;
const CHROMIUM = process.env.KEIZOKU_CHROMIUM ?? '/usr/bin/chromium';
const TM_EXPORT_DIR = path.join(SHARED_DIR, 'models', 'teachable-machine');
/** KEIZOKU_BENCH_PEERS_QUICK=1: 4 train / 3 test photos per class and 2 epochs, to check the wiring. */
const QUICK = process.env.KEIZOKU_BENCH_PEERS_QUICK === '1';
/** KEIZOKU_BENCH_PEERS_BACKEND: tf.setBackend before anything (default: the library's own choice). */
const TM_BACKEND = process.env.KEIZOKU_BENCH_PEERS_BACKEND || undefined;

function gc(): void {
  global.gc?.();
}

/** The first CLASSES Caltech classes by code units with at least MIN_TRAIN train photos. */
function pickClasses(): string[] {
  const picked = listClasses(CALTECH.dir, 'train').filter((name) => readdirSync(path.join(CALTECH.dir, 'train', name)).length >= MIN_TRAIN);
  if (picked.length < CLASSES) throw new Error(`only ${picked.length} Caltech classes have ${MIN_TRAIN} train photos`);
  return picked.slice(0, CLASSES);
}

function accuracy(truth: readonly string[], predicted: readonly string[]): number {
  return truth.filter((label, i) => predicted[i] === label).length / Math.max(1, truth.length);
}

/** Peak RSS sum of a process tree, sampled every 100 ms; PSS sum every 500 ms (reading smaps_rollup costs more). */
class RssPeak {
  peak = 0;
  peakPss = 0;
  processes = 0;
  private ticks = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly rootPid: number) {}
  sample(withPss = true): number {
    const { rss, pss, processes } = descendantRss(this.rootPid, withPss);
    if (rss > this.peak) {
      this.peak = rss;
      this.processes = processes;
    }
    this.peakPss = Math.max(this.peakPss, pss);
    return rss;
  }
  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(++this.ticks % 5 === 0), 100);
  }
  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

export async function peersBench(context: BenchContext): Promise<SectionOutput> {
  const area = mkdtempSync(path.join(os.tmpdir(), 'keizoku-bench-peers-'));
  const root = path.join(area, 'project');
  const staging = path.join(area, 'staging');
  const testDir = path.join(area, 'test');
  try {
    const classes = pickClasses();
    const first = classes.slice(0, CLASSES - ADDED);
    const added = classes.slice(CLASSES - ADDED);
    const trainFiles = listFiles(CALTECH.dir, 'train', classes).filter((f, i, all) => !QUICK || all.findIndex((g) => g.className === f.className) + 4 > i);
    const testFiles = listFiles(CALTECH.dir, 'test', classes).filter((f, i, all) => !QUICK || all.findIndex((g) => g.className === f.className) + 3 > i);
    context.log(`peers: classes ${classes.join(', ')}; ${trainFiles.length} train, ${testFiles.length} test photos${QUICK ? ' (QUICK)' : ''}`);
    for (const dir of [root, staging, testDir]) mkdirSync(dir);
    for (const file of trainFiles) {
      const into = added.includes(file.className) ? staging : root;
      mkdirSync(path.join(into, file.className), { recursive: true });
      cpSync(file.absPath, path.join(into, file.relPath));
    }
    for (const file of testFiles) {
      mkdirSync(path.join(testDir, file.className), { recursive: true });
      cpSync(file.absPath, path.join(testDir, file.relPath));
    }

    // Keizoku: the product's update, as `keizoku update` runs it, before the browser exists.
    await resolveDefaultBackbone(context.cacheDir);
    const open = () => Project.open({ root, modelDir: MODEL_MIRROR_DIR, cacheDir: context.cacheDir, allowDownload: false, device: 'cpu' });
    const update = async (label: string) => {
      gc();
      const { result, memory } = await measurePeakMemory(async () => {
        const project = open();
        try {
          return await runUpdate(project);
        } finally {
          project.close();
        }
      });
      context.log(`peers: keizoku ${label}: ${result.status}, ${result.samples.embedded} embedded, ${(result.timingsMs.total / 1000).toFixed(1)} s, peak RSS ${mib(memory.peakRss)} MiB`);
      return { result, memory };
    };
    const evaluate = async () => {
      const project = open();
      try {
        return await runEvaluateFolder(project, testDir);
      } finally {
        project.close();
      }
    };
    gc();
    const keizokuRssBefore = process.memoryUsage().rss;
    const k1 = await update(`first model, ${first.length} classes`);
    const kEval1 = await evaluate();
    for (const name of added) renameSync(path.join(staging, name), path.join(root, name));
    const k2 = await update(`add ${added.length} classes`);
    const kEval2 = await evaluate();
    context.log(`peers: keizoku test accuracy ${pct(kEval1.metrics.overall)} % (${first.length} classes), ${pct(kEval2.metrics.overall)} % (${classes.length})`);
    const kResults: UpdateResult[] = [k1.result, k2.result];
    const kPeak = Math.max(k1.memory.peakRss, k2.memory.peakRss);
    const kEmbedded = kResults.reduce((a, r) => a + r.samples.embedded, 0);
    const kEmbedMs = kResults.reduce((a, r) => a + r.timingsMs.embed, 0);

    // Teachable Machine in Chromium.
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const browserVersion = browser.version();
    const rss = new RssPeak(process.pid);
    try {
      const { page, blocked, served } = await openTmPage({ browser, exportDir: TM_EXPORT_DIR, photoDir: path.join(CALTECH.dir), backend: TM_BACKEND, log: context.log });
      const backend = await tmSetBackend(page, TM_BACKEND);
      const info = await tmInfo(page);
      const key = (f: { relPath: string }, split: 'train' | 'test') => `${split}/${f.relPath}`;
      await tmLoadPhotos(page, [...trainFiles.map((f) => key(f, 'train')), ...testFiles.map((f) => key(f, 'test'))]);
      gc();
      const chromiumRssIdle = rss.sample();
      context.log(`peers: chromium ${browserVersion}, tfjs ${info.tfjs}, backend ${backend}, WebGL renderer ${info.webgl}; process tree ${mib(chromiumRssIdle)} MiB with the libraries and photos loaded`);
      const params = QUICK ? { ...TM_PARAMS, epochs: 2 } : TM_PARAMS;
      const perClass = (names: readonly string[]) => names.map((name) => trainFiles.filter((f) => f.className === name).map((f) => key(f, 'train')));
      rss.start();
      const t1: TmStep = await tmTrain(page, first, perClass(first), params);
      context.log(`peers: TM first model: ${(t1.totalMs / 1000).toFixed(1)} s (embed ${(t1.embedMs / 1000).toFixed(1)}, train ${(t1.trainMs / 1000).toFixed(1)}, ${t1.epochs} epochs)`);
      const t2: TmStep = await tmTrain(page, classes, perClass(classes), params);
      const tmPeak = rss.stop();
      const tmPeakProcesses = rss.processes;
      const tmPeakPss = rss.peakPss;
      context.log(`peers: TM 10 classes from scratch: ${(t2.totalMs / 1000).toFixed(1)} s (embed ${(t2.embedMs / 1000).toFixed(1)}, train ${(t2.trainMs / 1000).toFixed(1)}); peak tree RSS ${mib(tmPeak)} MiB`);
      const predicted = await tmPredict(page, testFiles.map((f) => key(f, 'test')));
      const tmAcc = accuracy(testFiles.map((f) => f.className), predicted);
      const check = await tmCheckBase(page, trainFiles.slice(0, 3).map((f) => key(f, 'train')));
      context.log(`peers: TM test accuracy ${pct(tmAcc)} %; served base vs the export's own base: max |Δ| ${check.maxAbs} (activations up to ${check.maxRef.toFixed(2)}); blocked requests ${blocked.length}`);
      if (blocked.length > 0) context.log(`peers: blocked ${blocked.slice(0, 5).join(', ')}`);

      const tmImages = t1.examples + t2.examples;
      const tmEmbedMs = t1.embedMs + t2.embedMs;
      const s = (ms: number) => fixed(ms / 1000, 1);
      const rows = [
        [`(a) first model, ${first.length} classes (s)`, s(k1.result.timingsMs.total), s(t1.totalMs), ratio(k1.result.timingsMs.total, t1.totalMs)],
        [`(b) add ${added.length} classes (s)`, s(k2.result.timingsMs.total), s(t2.totalMs), ratio(k2.result.timingsMs.total, t2.totalMs)],
        [`(c) top-1 on the ${testFiles.length} test photos of ${classes.length} classes (%)`, pct(kEval2.metrics.overall), pct(tmAcc), ratio(kEval2.metrics.overall, tmAcc)],
        ['(d) embedding, images/s (decode + crop + backbone, both steps)', fixed((1000 * kEmbedded) / kEmbedMs, 1), fixed((1000 * tmImages) / tmEmbedMs, 1), ratio(kEmbedded / kEmbedMs, tmImages / tmEmbedMs)],
        ['(e) peak memory (MiB): Keizoku process RSS / Chromium process-tree RSS', mib(kPeak), mib(tmPeak), ratio(kPeak, tmPeak)],
      ];
      const phases = [
        [`first model, ${first.length} classes`, s(k1.result.timingsMs.embed), s(k1.result.timingsMs.train), s(k1.result.timingsMs.total), s(t1.loadMs), s(t1.embedMs), s(t1.trainMs), s(t1.totalMs)],
        [`${classes.length} classes`, s(k2.result.timingsMs.embed), s(k2.result.timingsMs.train), s(k2.result.timingsMs.total), s(t2.loadMs), s(t2.embedMs), s(t2.trainMs), s(t2.totalMs)],
      ];
      const tmVersion = packageVersion(TM_PACKAGE);
      const tfVersion = packageVersion(TF_PACKAGE);
      return {
        title: 'Against Teachable Machine',
        method:
          `The first ${CLASSES} Caltech-101 classes by code-unit order with ≥ ${MIN_TRAIN} train photos (${classes.join(', ')}); both get the same ${trainFiles.length} train photos ` +
          `and are scored on the same ${testFiles.length} test photos. **Keizoku**: \`runUpdate\` on a project folder (default backbone MobileNetV2 1.0 uint8 on ONNX Runtime, CPU, default learner) ` +
          `with the first ${first.length} classes, then with the other ${added.length} class folders moved in (it embeds only their photos and updates incrementally; it holds out its own 20 % for its report); ` +
          `\`runEvaluateFolder\` on the test photos. **Teachable Machine**: its published library \`${TM_PACKAGE}\` ${tmVersion} on \`${TF_PACKAGE}\` ${tfVersion} (UMD builds from node_modules) ` +
          `in Debian's Chromium ${browserVersion} (headless, playwright-core), as its web app trains: \`createTeachable(…, { version: 2, alpha: 0.35 })\` (MobileNetV2 α 0.35 cut at out_relu + global average pooling; ` +
          `the base URL it hard-codes is answered with the base taken out of the shared Teachable Machine export, identical activations: max |Δ| ${check.maxAbs}), ` +
          `every photo decoded as an HTMLImageElement from a Blob URL, center-cropped to a 224×224 canvas by the library's cropTo, \`addExample\` (x/127 − 1), then \`train\` with the web app's defaults ` +
          `(${params.epochs} epochs, batch ${params.batchSize}, Adam lr ${params.learningRate}, dense ${params.denseUnits}, its own 15 % validation split); adding classes is a new model from scratch on all ${classes.length} ` +
          `(createTeachable + every photo again + train), as the web app's Train button does. tfjs backend: \`${backend}\` (tf.getBackend(); no tfjs-backend-wasm release fits tfjs 1.3.1, the first one needs tfjs-core 1.5; ` +
          `this machine has no GPU: WebGL renderer "${info.webgl}"). Times include model loading and decoding; TM's photos are in page memory as Blobs beforehand (the web app holds the uploads). ` +
          `Memory: Keizoku's process RSS (worker-thread sampler) during the updates; Chromium's whole process tree (sum of RSS from /proc, so shared pages count more than once) during both trainings, sampled every 100 ms.`,
        tables: [
          {
            caption: 'Keizoku against Teachable Machine; ratio = Keizoku ÷ Teachable Machine (times, memory: lower is better for Keizoku; accuracy, images/s: higher)',
            headers: ['measure', 'Keizoku', 'Teachable Machine', 'Keizoku ÷ TM'],
            align: ['l', 'r', 'r', 'r'],
            rows,
            reading: [
              `Adding ${added.length} classes costs Keizoku ${ratio(k2.result.timingsMs.total, t2.totalMs)} Teachable Machine's time: Keizoku embeds only the ${k2.result.samples.embedded} new photos, TM re-embeds all ${t2.examples} and retrains ${params.epochs} epochs.`,
              `Accuracy on the same test photos: Keizoku ${pct(kEval2.metrics.overall)} %, TM ${pct(tmAcc)} % (after the first step: Keizoku ${pct(kEval1.metrics.overall)} % on ${first.length} classes). ` +
                `Keizoku's backbone is the larger MobileNetV2 1.0 (1280-d), TM's the α 0.35 one, so images/s compares the two products as shipped, not the same network.`,
            ],
          },
          {
            caption: 'Phases (seconds)',
            headers: ['step', 'Keizoku embed', 'Keizoku train', 'Keizoku total', 'TM load base', 'TM decode + addExample', 'TM train', 'TM total'],
            align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
            rows: phases,
            reading: [
              `TM's decode + crop took ${s(t1.decodeMs + t2.decodeMs)} s of its ${s(tmEmbedMs)} s of embedding. Chromium's tree was ${mib(chromiumRssIdle)} MiB with the libraries and photos loaded, ` +
                `${tmPeakProcesses} processes at the peak; the tree's peak PSS (shared pages split between its processes, sampled every 500 ms) was ${mib(tmPeakPss)} MiB ` +
                `(Keizoku ÷ that: ${ratio(kPeak, tmPeakPss)}). Keizoku's process was ${mib(keizokuRssBefore)} MiB before its first update.`,
            ],
          },
        ],
        data: {
          classes,
          trainPhotos: trainFiles.length,
          testPhotos: testFiles.length,
          quick: QUICK,
          keizoku: {
            updates: kResults.map((r, i) => ({ status: r.status, samples: r.samples, timingsMs: r.timingsMs, peakRss: [k1, k2][i]!.memory.peakRss })),
            testAccuracy: { first: kEval1.metrics.overall, all: kEval2.metrics.overall },
            rssBefore: keizokuRssBefore,
          },
          teachableMachine: {
            versions: { tmImage: tmVersion, tmImageReported: info.tmImage, tfjs: info.tfjs, chromium: browserVersion },
            backend,
            params,
            steps: [t1, t2],
            testAccuracy: tmAcc,
            peakTreeRss: tmPeak,
            peakTreePss: tmPeakPss,
            webglRenderer: info.webgl,
            idleTreeRss: chromiumRssIdle,
            baseCheck: check,
            baseRequests: served.base,
            blockedRequests: blocked,
          },
        },
      };
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(area, { recursive: true, force: true });
  }
}
