// Section `finetune`: the finetune learner (top of the backbone trained on cached cut activations,
// latent replay, exact ridge refit) against the frozen `analytic` learner, in the same run:
// - new domains (photo → line drawing → corrupted, bench/domain-shift.ts): accuracy per domain;
// - class-incremental Caltech-101 10×10: final and average incremental accuracy;
// - cost: update time per step, and bytes cached per sample.
import { argmaxClassNames } from '../main/engine/evaluation/accuracy-report.js';
import { encodeActivation } from '../main/engine/finetune/activation-codec.js';
import { loadBackboneTop } from '../main/engine/finetune/backbone-top.js';
import { finetuneLearner } from '../main/engine/learners/finetune/learner.js';
import { FINETUNE_DEFAULTS } from '../main/engine/learners/finetune/state.js';
import { getLearner, noFeatures, type BackboneTop, type HyperParameters, type LabeledFeatures, type Learner, type LearnerState } from '../main/engine/learners/index.js';
import { loadBackbone } from './backbone.js';
import { CALTECH, chunk, listClasses, listFiles, selectClasses } from './datasets.js';
import { closeScenarioTrainer, incrementalLearner, jointLearner, loadDomainData, runDomainScenario, type DomainScenarioResult } from './domain-shift.js';
import { EMBEDDING_CACHE_ENV, embeddingCacheEnabled, embedSplitCached } from './embedding-cache.js';
import { fixed, pct, ratio } from './markdown.js';
import type { BenchContext, SectionOutput, Table } from './section.js';
import { DOMAINS, type Domain } from './synthetic-domains.js';

/** Hyper-parameters of the finetune runs here: the registered defaults unless KEIZOKU_BENCH_FINETUNE (JSON) overrides some. */
function finetuneHyperParameters(): HyperParameters {
  const raw = process.env.KEIZOKU_BENCH_FINETUNE;
  return raw ? (JSON.parse(raw) as HyperParameters) : {};
}

interface ClassIncrementalRun {
  final: number;
  average: number;
  stepAccuracy: number[];
  learnMs: number[];
}

/** Caltech-101 in steps of 10 classes: learn each step's new classes, score every class seen so far. */
async function classIncremental(learner: Learner, train: LabeledFeatures, test: LabeledFeatures, classes: readonly string[], context: { backboneTop?: BackboneTop; hyperParameters?: HyperParameters }): Promise<ClassIncrementalRun> {
  let state: LearnerState | null = null;
  const stepAccuracy: number[] = [];
  const learnMs: number[] = [];
  const seen: string[] = [];
  for (const fresh of chunk(classes, CALTECH.classesPerStep)) {
    seen.push(...fresh);
    const added = selectClasses(train, fresh);
    const t0 = performance.now();
    state = await learner.update(state, { classNames: [...seen], added, removed: noFeatures(added.dim) }, context);
    learnMs.push(performance.now() - t0);
    const testSeen = selectClasses(test, seen);
    const predicted = argmaxClassNames(await learner.predict(state, testSeen.features, testSeen.count), testSeen.count, learner.classNames(state));
    stepAccuracy.push(predicted.filter((name, i) => name === testSeen.labels[i]).length / testSeen.count);
  }
  return { final: stepAccuracy[stepAccuracy.length - 1]!, average: stepAccuracy.reduce((a, b) => a + b, 0) / stepAccuracy.length, stepAccuracy, learnMs };
}

async function embedCaltech(context: BenchContext, fineTuning: boolean) {
  const { extractor, session, backbone } = await loadBackbone(context.cacheDir, undefined, { fineTuning });
  try {
    const classes = listClasses(CALTECH.dir, 'train');
    const split = async (name: 'train' | 'test') => {
      context.log(`Caltech-101 ${name}: ${fineTuning ? 'cut activations' : 'features'} of ${listFiles(CALTECH.dir, name, classes).length} images`);
      return embedSplitCached(listFiles(CALTECH.dir, name, classes), extractor, backbone.key);
    };
    return { classes, train: await split('train'), test: await split('test'), backbone };
  } finally {
    await session.release();
  }
}

export async function finetuneBench(context: BenchContext): Promise<SectionOutput> {
  const hp = finetuneHyperParameters();
  const frozen = await loadDomainData(context.cacheDir, context.log);
  const cut = await loadDomainData(context.cacheDir, context.log, undefined, { fineTuning: true });
  const { backbone: cutBackbone } = await loadBackbone(context.cacheDir, undefined, { fineTuning: true }).then(async (b) => {
    await b.session.release();
    return b;
  });
  const backboneTop = loadBackboneTop(cutBackbone)!;
  const domain: Record<'reference' | 'analytic' | 'finetune', DomainScenarioResult> = {} as never;
  let caltech: Record<'analytic' | 'finetune', ClassIncrementalRun>;
  try {
    context.log('new domains: reference (joint analytic)');
    domain.reference = await runDomainScenario(frozen, () => jointLearner('analytic'));
    context.log('new domains: analytic');
    domain.analytic = await runDomainScenario(frozen, () => incrementalLearner('analytic'));
    context.log('new domains: finetune');
    domain.finetune = await runDomainScenario(cut, () => incrementalLearner(finetuneLearner, hp, { backboneTop }));

    const frozenCaltech = await embedCaltech(context, false);
    const cutCaltech = await embedCaltech(context, true);
    context.log('Caltech-101 10×10: analytic');
    const analytic = await classIncremental(getLearner('analytic'), frozenCaltech.train, frozenCaltech.test, frozenCaltech.classes, {});
    context.log('Caltech-101 10×10: finetune');
    const finetune = await classIncremental(finetuneLearner, cutCaltech.train, cutCaltech.test, cutCaltech.classes, { backboneTop, hyperParameters: hp });
    caltech = { analytic, finetune };
  } finally {
    await closeScenarioTrainer();
  }

  const activationBytes = encodeActivation(new Float32Array(backboneTop.cutShape.reduce((a, b) => a * b, 1)), ...backboneTop.cutShape).byteLength;
  const embeddingBytes = frozen.train.photo.dim * 4;
  const settings = { ...FINETUNE_DEFAULTS, ...hp };
  const stepRows = (name: string, run: DomainScenarioResult, reference?: DomainScenarioResult): string[][] =>
    run.steps.map((step, i) => [
      i === 0 ? name : '',
      `+ ${step.trained}`,
      ...DOMAINS.map((d) => `${pct(step.accuracy[d])}${reference ? ` (${signed(step.accuracy[d], domain.analytic.steps[i]!.accuracy[d])})` : ''}`),
      `${fixed(step.learnMs / 1000, 1)} s${reference ? ` (${ratio(step.learnMs, domain.analytic.steps[i]!.learnMs, 0)})` : ''}`,
    ]);
  const domainsTable: Table = {
    caption: 'New domains: accuracy on each domain’s test images after each update (finetune: points against analytic at the same step), and the update’s learning time',
    headers: ['learner', 'update', ...DOMAINS.map((d) => `${d} %`), 'learn time'],
    align: ['l', 'l', 'r', 'r', 'r', 'r'],
    rows: [...stepRows('**reference**: analytic joint', domain.reference), ...stepRows('analytic (frozen backbone)', domain.analytic), ...stepRows('finetune', domain.finetune, domain.analytic)],
    reading: domainReading(domain),
  };
  const caltechTable: Table = {
    caption: 'Class-incremental Caltech-101, 10 steps of 10 classes',
    headers: ['learner', 'final %', 'average incremental %', 'learn time, all steps'],
    align: ['l', 'r', 'r', 'r'],
    rows: [
      ['**reference**: analytic (frozen backbone)', pct(caltech.analytic.final), pct(caltech.analytic.average), `${fixed(sum(caltech.analytic.learnMs) / 1000, 1)} s`],
      ['finetune', `${pct(caltech.finetune.final)} (${signed(caltech.finetune.final, caltech.analytic.final)})`, `${pct(caltech.finetune.average)} (${signed(caltech.finetune.average, caltech.analytic.average)})`, `${fixed(sum(caltech.finetune.learnMs) / 1000, 1)} s (${ratio(sum(caltech.finetune.learnMs), sum(caltech.analytic.learnMs), 0)})`],
    ],
    reading: [
      `Target: no regression beyond 0.5 points. Finetune final: ${signed(caltech.finetune.final, caltech.analytic.final)} against analytic.`,
    ],
  };
  const costTable: Table = {
    caption: 'What it costs: cached bytes per sample and update time',
    headers: ['', 'analytic', 'finetune', 'ratio'],
    align: ['l', 'r', 'r', 'r'],
    rows: [
      ['cached per sample (embedding / cut activation)', `${embeddingBytes} B`, `${activationBytes} B`, ratio(activationBytes, embeddingBytes)],
      ['learn time, 3 domain updates', `${fixed(sum(domain.analytic.steps.map((s) => s.learnMs)) / 1000, 2)} s`, `${fixed(sum(domain.finetune.steps.map((s) => s.learnMs)) / 1000, 1)} s`, ratio(sum(domain.finetune.steps.map((s) => s.learnMs)), sum(domain.analytic.steps.map((s) => s.learnMs)), 0)],
      ['learn time, Caltech 10 steps', `${fixed(sum(caltech.analytic.learnMs) / 1000, 2)} s`, `${fixed(sum(caltech.finetune.learnMs) / 1000, 1)} s`, ratio(sum(caltech.finetune.learnMs), sum(caltech.analytic.learnMs), 0)],
    ],
    reading: [
      'Both learners embed each image once; the cut activation replaces the final embedding in the cache (uint8 with a per-channel offset and scale). ' +
        'Training time is all on CPU (ONNX Runtime, the session’s default threads); the analytic update is a ridge solve from statistics.',
    ],
  };
  return {
    title: 'Fine-tuning the top of the backbone',
    method:
      `The \`finetune\` learner splits the default backbone before its last inverted-residual block (cut \`${cutBackbone.fineTuning?.cut}\`, ${backboneTop.cutShape.join('×')}) and trains that block, ` +
      `the last 1×1 conv and a linear head on the cached cut activations (${settings.epochs} epochs of Adam at ${settings.learningRate}, batch ${settings.batchSize}, logit scale ${settings.logitScale}, ` +
      `each update's new samples mixed with ${settings.replayRatio}× as many buffered old ones, whose normalized features are held to the previous version's by feature distillation, β ${settings.featureDistillation}), ` +
      `starting from a ridge probe of the current features; the stored head is then the exact ridge ` +
      `(λ ${settings.lambda}) on the tuned features of its whole latent buffer (${settings.bufferMegabytes > 0 ? settings.bufferMegabytes : 64} MB). ` +
      `It is compared in the same run with the frozen-backbone \`analytic\` learner on the same images: the new-domains scenario of the \`domains\` section (${frozen.classes.length} Caltech classes; photos, then synthetic line drawings, then synthetic corruptions) ` +
      `and class-incremental Caltech-101 (10 steps of 10 classes, all ${listClasses(CALTECH.dir, 'train').length} classes). ` +
      `${embeddingCacheEnabled() ? `Features and activations were read from the bench's embedding cache (${EMBEDDING_CACHE_ENV}=1).` : 'Features and activations were computed in this run.'}` +
      (Object.keys(hp).length > 0 ? ` Overrides: ${JSON.stringify(hp)}.` : ''),
    tables: [domainsTable, caltechTable, costTable],
    data: { hyperParameters: settings, domain, caltech, activationBytes, embeddingBytes },
  };
}

function domainReading(domain: Record<'reference' | 'analytic' | 'finetune', DomainScenarioResult>): string[] {
  const afterDrawings = (run: DomainScenarioResult) => run.steps[1]!.accuracy;
  const last = (run: DomainScenarioResult, d: Domain) => run.steps[run.steps.length - 1]!.accuracy[d];
  return [
    `Targets: drawings in-domain at least +2 points over analytic — finetune ${signed(afterDrawings(domain.finetune).drawing, afterDrawings(domain.analytic).drawing)} after learning them, ` +
      `${signed(last(domain.finetune, 'drawing'), last(domain.analytic, 'drawing'))} at the end; photos at most 1 point lost — ` +
      `${signed(afterDrawings(domain.finetune).photo, afterDrawings(domain.analytic).photo)} after the drawings, ${signed(last(domain.finetune, 'photo'), last(domain.analytic, 'photo'))} at the end.`,
  ];
}

function signed(value: number | null | undefined, reference: number | null | undefined): string {
  if (value === null || value === undefined || reference === null || reference === undefined) return '–';
  const points = (value - reference) * 100;
  return `${points >= 0 ? '+' : '−'}${Math.abs(points).toFixed(1)} pts`;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
