// Variant measurement for issue 9 part 3 (not a bench section): the analytic learner with fixed
// λ = 0.5 against λ chosen per update by GCV, on the default 1280-d features and on the taps
// backbone (1696-d), for the domains scenario and class-incremental Caltech 10×10 / CIFAR-10 5×2.
// Every figure is also given as a ratio against the reference of the same run: joint analytic,
// fixed λ, default backbone. Deterministic (fixed orders, no sampling).
//
//   KEIZOKU_BENCH_EMBEDDING_CACHE=1 node dist/bench/lambda-taps.js [embed]
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HyperParameters, LabeledFeatures } from '../main/engine/learners/index.js';
import { loadBackbone } from './backbone.js';
import { CALTECH, chunk, CIFAR, listClasses, listFiles, selectClasses, type DatasetSpec } from './datasets.js';
import { accuracy, closeScenarioTrainer, incrementalLearner, jointLearner, loadDomainData, runDomainScenario, type ScenarioLearnerFactory } from './domain-shift.js';
import { embedSplitCached } from './embedding-cache.js';
import { RESULTS_DIR } from './paths.js';
import { DOMAINS } from './synthetic-domains.js';

const BACKBONES = ['mobilenet-v2-1.0-224-quant', 'mobilenet-v2-1.0-224-quant-taps'] as const;
const VARIANTS: Record<string, (joint: boolean) => ScenarioLearnerFactory> = {
  'fixed λ 0.5': (joint) => () => (joint ? jointLearner('analytic') : incrementalLearner('analytic')),
  'gcv λ': (joint) => () => {
    const h: HyperParameters = { lambdaSelection: 'gcv' };
    return joint ? jointLearner('analytic', h) : incrementalLearner('analytic', h);
  },
};

const log = (m: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
const cacheDir = process.env.KEIZOKU_CACHE_DIR ?? path.join(os.tmpdir(), 'keizoku-lambda-taps-cache');

async function classIncremental(spec: DatasetSpec, backboneId: string) {
  const { extractor, session, backbone } = await loadBackbone(cacheDir, backboneId);
  const classes = listClasses(spec.dir, 'train');
  try {
    const [train, test] = [
      await embedSplitCached(listFiles(spec.dir, 'train', classes), extractor, backbone.key),
      await embedSplitCached(listFiles(spec.dir, 'test', classes), extractor, backbone.key),
    ] as [LabeledFeatures, LabeledFeatures];
    return { classes, train, test };
  } finally {
    await session.release();
  }
}

async function runClassIncremental(data: Awaited<ReturnType<typeof classIncremental>>, perStep: number, factory: ScenarioLearnerFactory) {
  const learner = factory();
  const overall: number[] = [];
  const groups = chunk(data.classes, perStep);
  const t0 = performance.now();
  for (let t = 0; t < groups.length; t++) {
    const seen = groups.slice(0, t + 1).flat();
    await learner.learn({ classNames: seen, added: selectClasses(data.train, groups[t]!), seen: selectClasses(data.train, seen) });
    overall.push((await accuracy(learner, selectClasses(data.test, seen)))!);
  }
  return { final: overall[overall.length - 1]!, average: overall.reduce((a, b) => a + b, 0) / overall.length, learnS: (performance.now() - t0) / 1000 };
}

const embedOnly = process.argv[2] === 'embed';
const results: Record<string, unknown> = {};
for (const backboneId of BACKBONES) {
  log(`${backboneId}: domains data`);
  const domains = await loadDomainData(cacheDir, log, backboneId);
  const sets = { caltech: await classIncremental(CALTECH, backboneId), cifar: await classIncremental(CIFAR, backboneId) };
  if (embedOnly) continue;
  for (const [variant, make] of Object.entries(VARIANTS)) {
    for (const joint of [false, true]) {
      const key = `${backboneId} | ${variant} | ${joint ? 'joint' : 'incremental'}`;
      log(key);
      const run = await runDomainScenario(domains, make(joint));
      const last = run.steps[run.steps.length - 1]!;
      const domainsResult = { final: last.accuracy, meanSeen: last.meanSeen, afterStep: run.steps.map((s) => s.accuracy), learnS: run.steps.reduce((s, x) => s + x.learnMs, 0) / 1000 };
      const caltech = await runClassIncremental(sets.caltech, CALTECH.classesPerStep, make(joint));
      const cifar = await runClassIncremental(sets.cifar, CIFAR.classesPerStep, make(joint));
      results[key] = { domains: domainsResult, caltech, cifar };
      log(`${key}: ${JSON.stringify(results[key])}`);
    }
  }
}
await closeScenarioTrainer();
if (!embedOnly) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(path.join(RESULTS_DIR, 'lambda-taps.json'), JSON.stringify(results, null, 2));
  const ref = results[`${BACKBONES[0]} | fixed λ 0.5 | joint`] as { domains: { final: Record<string, number> }; caltech: { final: number }; cifar: { final: number } };
  for (const [key, value] of Object.entries(results)) {
    const r = value as typeof ref;
    const cells = [...DOMAINS.map((d) => `${(r.domains.final[d]! * 100).toFixed(1)} (${(r.domains.final[d]! / ref.domains.final[d]!).toFixed(3)})`),
      `${(r.caltech.final * 100).toFixed(1)} (${(r.caltech.final / ref.caltech.final).toFixed(3)})`,
      `${(r.cifar.final * 100).toFixed(1)} (${(r.cifar.final / ref.cifar.final).toFixed(3)})`];
    console.log(`| ${key} | ${cells.join(' | ')} |`);
  }
}
