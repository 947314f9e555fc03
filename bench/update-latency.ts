// Section `update`: latency and peak memory of real incremental updates (runUpdate) on a project
// folder of Caltech-101 photos, against the first update that embeds everything.
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { UpdateResult } from '../main/engine/api/contract.js';
import { Project } from '../main/engine/project/project.js';
import { openSession } from '../main/engine/runtime/devices.js';
import { runUpdate } from '../main/engine/use-cases/update.js';
import { resolveDefaultBackbone } from './backbone.js';
import { CALTECH, listClasses } from './datasets.js';
import { fixed, mib, ratio } from './markdown.js';
import { measurePeakMemory, type MemoryPeak } from './memory-sampler.js';
import { MODEL_MIRROR_DIR } from './paths.js';
import type { BenchContext, SectionOutput } from './section.js';

const ADDED_LAST = 10;

interface Measured {
  label: string;
  result: UpdateResult;
  memory: MemoryPeak;
  rssAfter: number;
}

function gc(): void {
  global.gc?.();
}

export async function updateLatency(context: BenchContext): Promise<SectionOutput> {
  const area = mkdtempSync(path.join(os.tmpdir(), 'keizoku-bench-update-'));
  const root = path.join(area, 'project');
  const staging = path.join(area, 'staging');
  try {
    const classes = listClasses(CALTECH.dir, 'train');
    const first = classes.slice(0, classes.length - ADDED_LAST);
    const later = classes.slice(classes.length - ADDED_LAST);
    context.log(`update: copying Caltech train photos (${first.length} classes into the project, ${later.length} into staging)`);
    mkdirSync(root);
    mkdirSync(staging);
    for (const name of first) cpSync(path.join(CALTECH.dir, 'train', name), path.join(root, name), { recursive: true });
    for (const name of later) cpSync(path.join(CALTECH.dir, 'train', name), path.join(staging, name), { recursive: true });
    const move = (names: readonly string[], from: string, to: string) => {
      for (const name of names) renameSync(path.join(from, name), path.join(to, name));
    };

    // Reference: the process right after loading the backbone (as every update does), then released.
    gc();
    const rssBare = process.memoryUsage().rss;
    const backbone = await resolveDefaultBackbone(context.cacheDir);
    const opened = await openSession(backbone.onnxPath, 'cpu');
    gc();
    const rssLoaded = process.memoryUsage().rss;
    await opened.session.release();

    const measured: Measured[] = [];
    const update = async (label: string, learner: 'analytic' | 'ncm' | 'replay') => {
      context.log(`update: ${label}`);
      gc();
      const { result, memory } = await measurePeakMemory(async () => {
        const project = Project.open({ root, modelDir: MODEL_MIRROR_DIR, cacheDir: context.cacheDir, allowDownload: false, device: 'cpu', learner });
        try {
          return await runUpdate(project);
        } finally {
          project.close();
        }
      });
      gc();
      measured.push({ label, result, memory, rssAfter: process.memoryUsage().rss });
      const t = result.timingsMs;
      context.log(
        `  ${result.status}: ${result.samples.embedded} embedded, ${result.samples.fromCache} from cache, ${(t.total / 1000).toFixed(1)} s, ` +
          `peak RSS ${mib(memory.peakRss)} MiB`,
      );
    };

    await update(`**reference**: first update, ${first.length} classes (embeds every photo)`, 'analytic');
    move(later, staging, root);
    await update(`add ${later.length} new class folders (new photos)`, 'analytic');
    move(later, root, staging);
    await update(`move those ${later.length} folders out (unlearn)`, 'analytic');
    move(later, staging, root);
    await update(`move them back (embeddings from the cache)`, 'analytic');
    await update(`switch to --learner ncm (full retrain of ${classes.length} classes from the cache)`, 'ncm');
    await update('nothing changed', 'ncm');
    await update(`switch to --learner replay (trains all ${classes.length} classes from the cache; ONNX graphs on CPU)`, 'replay');
    move(later, root, staging);
    await update(`replay: move the ${later.length} folders out (unlearn)`, 'replay');
    move(later, staging, root);
    await update(`replay: move them back (${later.length} classes learned incrementally, from the cache)`, 'replay');

    const reference = measured[0]!;
    const refTotal = reference.result.timingsMs.total;
    const s = (ms: number) => fixed(ms / 1000, 2);
    const latencyRows = measured.map(({ label, result }) => {
      const t = result.timingsMs;
      return [
        label,
        String(result.classes.total),
        String(result.samples.embedded),
        String(result.samples.fromCache),
        `${result.samples.learned} / ${result.samples.unlearned}`,
        s(t.total),
        ratio(t.total, refTotal, 3),
        s(t.scan),
        s(t.embed),
        s(t.train),
        s(t.evaluate),
        s(t.commit),
      ];
    });
    const memoryRows = [
      ['**reference**: process after loading the backbone', mib(rssLoaded), '1.00×', '–', '–'],
      ...measured.map(({ label, memory, rssAfter }) => [
        label.replace('**reference**: ', ''),
        mib(memory.peakRss),
        ratio(memory.peakRss, rssLoaded),
        mib(memory.peakHeapUsed),
        mib(rssAfter),
      ]),
    ];
    const firstResult = reference.result;
    const perImage = firstResult.timingsMs.total / Math.max(1, firstResult.samples.embedded);
    const embedPerImage = firstResult.timingsMs.embed / Math.max(1, firstResult.samples.embedded);
    const [, added, removed, back, ncm, unchanged, replaySwitch, , replayBack] = measured;
    const worst = measured.reduce((a, b) => (b.memory.peakRss > a.memory.peakRss ? b : a));
    return {
      title: 'Update latency and memory',
      method:
        `A real project folder in a temp dir: Caltech-101 train photos (30 per class) copied in, ${first.length} classes at first; ` +
        `the other ${later.length} class folders wait in a staging folder of the same temp area and are moved in and out with rename. ` +
        `Each row is one \`runUpdate\` on a freshly opened project (scan → embed with the SQLite cache → learn the delta → evaluate on the ` +
        `held-out 20 % → commit), device cpu, default threads; times are the update's own phase timings. ` +
        `Memory: process RSS sampled every 50 ms from a worker thread during the update (peak), JS heap used sampled on the main thread.`,
      tables: [
        {
          caption: 'Latency (seconds); ratio = total ÷ the first update\'s total',
          headers: ['update', 'classes', 'embedded', 'from cache', 'learned / unlearned', 'total s', '÷ first', 'scan', 'embed', 'train', 'evaluate', 'commit'],
          align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
          rows: latencyRows,
          reading: [
            `The first update costs ${fixed(perImage, 1)} ms per photo in all (${fixed(embedPerImage, 1)} ms of it embedding), so embedding dominates it.`,
            `Adding ${later.length} classes costs ${ratio(added!.result.timingsMs.total, refTotal)} the first update (it embeds only the ${added!.result.samples.embedded} new photos); ` +
              `unlearning them ${ratio(removed!.result.timingsMs.total, refTotal)}, and putting them back ${ratio(back!.result.timingsMs.total, refTotal)} ` +
              `(${back!.result.samples.fromCache} from the cache, ${back!.result.samples.embedded} inferred; its embed phase is read + hash only).`,
            `Switching learner retrains all ${ncm!.result.classes.total} classes from cached embeddings in ${ratio(ncm!.result.timingsMs.total, refTotal)} the first update; ` +
              `an update with nothing to do costs ${ratio(unchanged!.result.timingsMs.total, refTotal, 3)}.`,
            `The replay learner (gradient training as ONNX graphs) trains all ${replaySwitch!.result.classes.total} classes from cached embeddings in ` +
              `${s(replaySwitch!.result.timingsMs.train)} s of training (${ratio(replaySwitch!.result.timingsMs.total, refTotal)} the first update in all), and learns ` +
              `${later.length} classes incrementally on top of ${classes.length - later.length} in ${s(replayBack!.result.timingsMs.train)} s of training ` +
              `(${s(replayBack!.result.timingsMs.total)} s in all, ${ratio(replayBack!.result.timingsMs.total, refTotal)}).`,
          ],
        },
        {
          caption: `Memory (MiB); ratio = peak RSS ÷ RSS right after loading the backbone (the bare process was ${mib(rssBare)} MiB before loading it)`,
          headers: ['update', 'peak RSS', '÷ reference', 'peak heap used', 'RSS after'],
          align: ['l', 'r', 'r', 'r', 'r'],
          rows: memoryRows,
          reading: [
            `The highest peak is ${mib(worst.memory.peakRss)} MiB (${ratio(worst.memory.peakRss, rssLoaded)} the loaded backbone), during "${worst.label.replace('**reference**: ', '')}". ` +
              `RSS includes the ONNX Runtime session, the decode buffers in flight and SQLite's page cache; the heap column is the JS side alone.`,
          ],
        },
      ],
      data: {
        rssBare,
        rssLoaded,
        updates: measured.map(({ label, result, memory, rssAfter }) => ({
          label,
          status: result.status,
          classes: result.classes.total,
          samples: result.samples,
          timingsMs: result.timingsMs,
          peakRss: memory.peakRss,
          peakHeapUsed: memory.peakHeapUsed,
          rssAfter,
          heldOutOverall: result.metrics.overall,
        })),
      },
    };
  } finally {
    rmSync(area, { recursive: true, force: true });
  }
}
