// The `domains` scenarios: new samples of classes the model already knows, rather than new classes.
//
// - Domain-incremental ("new domain"): the same 25 Caltech classes arrive three times, as photos,
//   then as line drawings, then under ImageNet-C-style corruptions (bench/synthetic-domains.ts).
// - New instances (CORe50 "NI"-style): the same classes' photos arrive over several updates, a
//   share of every class's training photos each time.
//
// Each scenario is a function of a learner factory, so another file can measure its own learner
// or hyper-parameters on the same data:
//
//   const data = await loadDomainData(cacheDir, console.error);
//   const run = await runDomainScenario(data, () => incrementalLearner('replay', { distillationWeight: 1 }));
//   run.steps[1].accuracy.drawing  // accuracy on the drawings' test images after learning them
//   await closeScenarioTrainer();
import { argmaxClassNames } from '../main/engine/evaluation/accuracy-report.js';
import type { HyperParameters, LabeledFeatures, Learner, LearnerId, LearnerState, UpdateContext } from '../main/engine/learners/index.js';
import { getLearner, noFeatures } from '../main/engine/learners/index.js';
import type { HeadTrainer } from '../main/engine/training/head-trainer.js';
import { OnnxTrainer } from '../main/engine/training/onnx-trainer.js';
import type { ResolveOptions } from '../main/engine/backbones/resolve.js';
import { loadBackbone } from './backbone.js';
import type { EmbeddedSplit, PhotoFile } from './datasets.js';
import { embedSplitCached } from './embedding-cache.js';
import { CORRUPTIONS, DOMAINS, prepareDomainFiles, type Corruption, type Domain, type DomainFiles } from './synthetic-domains.js';

/** What a learner gets at each update of a scenario. */
export interface ScenarioStep {
  /** Every class of the model after this update (the scenarios here add no classes after the first). */
  classNames: readonly string[];
  /** Samples new in this update. */
  added: LabeledFeatures;
  /** Every training sample of this and earlier updates (for learners retrained from scratch). */
  seen: LabeledFeatures;
}

/** A way of learning a scenario; keeps its own state between updates. */
export interface ScenarioLearner {
  learn(step: ScenarioStep): Promise<void>;
  /** The predicted class name of every row. */
  predict(test: LabeledFeatures): Promise<string[]>;
}

export type ScenarioLearnerFactory = () => ScenarioLearner;

/** Gradient-trained learners run on ONNX Runtime (CPU), as `keizoku update` does; one trainer for the process. */
let sharedTrainer: HeadTrainer | undefined;

function trainer(): HeadTrainer {
  sharedTrainer ??= new OnnxTrainer('cpu');
  return sharedTrainer;
}

/** Releases the shared ONNX Runtime trainer (call once the scenarios are done). */
export async function closeScenarioTrainer(): Promise<void> {
  await sharedTrainer?.close();
  sharedTrainer = undefined;
}


/** A product learner (by id, or any Learner) updated with each step's new samples only. */
export function incrementalLearner(learner: LearnerId | Learner, hyperParameters?: HyperParameters, context: Pick<UpdateContext, 'backboneTop'> = {}): ScenarioLearner {
  const l = typeof learner === 'string' ? getLearner(learner) : learner;
  let state: LearnerState | null = null;
  return {
    async learn(step) {
      state = await l.update(
        state,
        { classNames: step.classNames, added: step.added, removed: noFeatures(step.added.dim) },
        { ...(hyperParameters ? { hyperParameters } : {}), ...context, trainer: trainer() },
      );
    },
    predict: (test) => predictNames(l, state!, test),
  };
}

/** The class name each row of `test` is predicted as. */
async function predictNames(learner: Learner, state: LearnerState, test: LabeledFeatures): Promise<string[]> {
  return argmaxClassNames(await learner.predict(state, test.features, test.count), test.count, learner.classNames(state));
}

/** A learner retrained from scratch on everything seen so far at every update. With `analytic`
 * (the default) this is the reference of the section. */
export function jointLearner(learner: LearnerId | Learner = 'analytic', hyperParameters?: HyperParameters): ScenarioLearner {
  const l = typeof learner === 'string' ? getLearner(learner) : learner;
  let state: LearnerState | null = null;
  return {
    async learn(step) {
      state = await l.update(
        null,
        { classNames: step.classNames, added: step.seen, removed: noFeatures(step.seen.dim) },
        { ...(hyperParameters ? { hyperParameters } : {}), trainer: trainer() },
      );
    },
    predict: (test) => predictNames(l, state!, test),
  };
}

/** The embedded scenario data. Rows of every split are in file order (class, then file name). */
export interface DomainData {
  classes: string[];
  train: Record<Domain, LabeledFeatures>;
  test: Record<Domain, LabeledFeatures>;
  /** The corrupted test images by corruption kind (the rows of test.corrupted, regrouped). */
  corruptedTestByKind: Record<Corruption, LabeledFeatures>;
  files: DomainFiles;
  images: number;
  failed: number;
  /** Wall time of embedding (0 for splits read from the bench's embedding cache). */
  embedMs: number;
  backboneKey: string;
}

export function concatFeatures(parts: readonly LabeledFeatures[], dim: number): LabeledFeatures {
  const count = parts.reduce((n, p) => n + p.count, 0);
  const features = new Float32Array(count * dim);
  let offset = 0;
  for (const p of parts) {
    features.set(p.features.subarray(0, p.count * dim), offset * dim);
    offset += p.count;
  }
  return { features, labels: parts.flatMap((p) => p.labels), count, dim };
}

function selectRows(data: LabeledFeatures, rows: readonly number[]): LabeledFeatures {
  const features = new Float32Array(rows.length * data.dim);
  rows.forEach((row, i) => features.set(data.features.subarray(row * data.dim, (row + 1) * data.dim), i * data.dim));
  return { features, labels: rows.map((row) => data.labels[row]!), count: rows.length, dim: data.dim };
}

/**
 * Generates (or finds) the derived images, loads the default backbone and embeds every split
 * through the product pipeline (embedFiles; via the bench's embedding cache when
 * KEIZOKU_BENCH_EMBEDDING_CACHE=1). `cacheDir` is the backbone cache (the bench's context.cacheDir);
 * `backboneId` a catalog id other than the default, for variant measurements; `options.fineTuning`
 * gives cut activations instead of features (the finetune learner's input).
 */
export async function loadDomainData(cacheDir: string, log: (message: string) => void = () => {}, backboneId?: string, options: ResolveOptions = {}): Promise<DomainData> {
  const files = await prepareDomainFiles(log);
  const { extractor, session, backbone } = await loadBackbone(cacheDir, backboneId, options);
  let failed = 0;
  let embedMs = 0;
  let images = 0;
  // The embedding cache keys on backbone + relPaths, and derived files share their photo's
  // relPath stem: the domain and generator key go into the backbone key so they never collide.
  const embed = async (domain: Domain, split: 'train' | 'test', list: readonly PhotoFile[]): Promise<EmbeddedSplit> => {
    const key = domain === 'photo' ? backbone.key : `${backbone.key}|synthetic-${domain}-${files.key}`;
    log(`embedding ${list.length} ${domain} ${split} images`);
    const split_ = await embedSplitCached(list, extractor, key);
    failed += split_.failed;
    embedMs += split_.wallMs;
    images += list.length;
    return split_;
  };
  try {
    const train = {} as Record<Domain, LabeledFeatures>;
    const test = {} as Record<Domain, LabeledFeatures>;
    const corruptedTestByKind = {} as Record<Corruption, LabeledFeatures>;
    for (const domain of DOMAINS) {
      train[domain] = await embed(domain, 'train', files.files[domain].train);
      if (domain !== 'corrupted') {
        test[domain] = await embed(domain, 'test', files.files[domain].test);
        continue;
      }
      // Embedded per kind, so each row's corruption is known even if a file failed.
      for (const kind of CORRUPTIONS) {
        corruptedTestByKind[kind] = await embed(
          domain,
          'test',
          files.files.corrupted.test.filter((f) => files.corruptionByFile[`test/${f.relPath}`] === kind),
        );
      }
      test.corrupted = concatFeatures(CORRUPTIONS.map((kind) => corruptedTestByKind[kind]), backbone.featureDim);
    }
    return { classes: files.classes, train, test, corruptedTestByKind, files, images, failed, embedMs, backboneKey: backbone.key };
  } finally {
    await session.release();
  }
}

export async function accuracy(learner: ScenarioLearner, test: LabeledFeatures): Promise<number | null> {
  if (test.count === 0) return null;
  const predicted = await learner.predict(test);
  let correct = 0;
  predicted.forEach((name, i) => {
    if (name === test.labels[i]) correct++;
  });
  return correct / test.count;
}

export interface DomainStepResult {
  /** The domain whose training images this update added. */
  trained: Domain;
  /** Accuracy on each domain's test images after this update (also for domains not trained yet). */
  accuracy: Record<Domain, number | null>;
  /** The same on the corrupted test images, by corruption kind. */
  corruptedByKind: Record<Corruption, number | null>;
  /** Mean of `accuracy` over the domains trained so far. */
  meanSeen: number | null;
  learnMs: number;
}

export interface DomainScenarioResult {
  order: Domain[];
  steps: DomainStepResult[];
}

function mean(values: ReadonlyArray<number | null>): number | null {
  const measured = values.filter((v): v is number => v !== null);
  return measured.length === 0 ? null : measured.reduce((a, b) => a + b, 0) / measured.length;
}

/**
 * Domain-incremental scenario: one update per domain in `order` (photo, drawing, corrupted), each
 * adding that domain's training images of every class; after each update the learner is scored
 * on every domain's test images.
 */
export async function runDomainScenario(
  data: DomainData,
  factory: ScenarioLearnerFactory,
  order: readonly Domain[] = DOMAINS,
): Promise<DomainScenarioResult> {
  const learner = factory();
  const steps: DomainStepResult[] = [];
  const seenParts: LabeledFeatures[] = [];
  for (const domain of order) {
    const added = data.train[domain];
    seenParts.push(added);
    const t0 = performance.now();
    await learner.learn({ classNames: data.classes, added, seen: concatFeatures(seenParts, added.dim) });
    const learnMs = performance.now() - t0;
    const acc = {} as Record<Domain, number | null>;
    for (const d of DOMAINS) acc[d] = await accuracy(learner, data.test[d]);
    const byKind = {} as Record<Corruption, number | null>;
    for (const k of CORRUPTIONS) byKind[k] = await accuracy(learner, data.corruptedTestByKind[k]);
    const seenDomains = order.slice(0, steps.length + 1);
    steps.push({ trained: domain, accuracy: acc, corruptedByKind: byKind, meanSeen: mean(seenDomains.map((d) => acc[d])), learnMs });
  }
  return { order: [...order], steps };
}

export interface InstanceStepResult {
  /** Training photos added by this update, and in all so far. */
  added: number;
  seen: number;
  /** Accuracy on the photos' test images after this update. */
  accuracy: number | null;
  learnMs: number;
}

/**
 * New-instances scenario (CORe50 "NI"-style, on photos): every class is present from the first
 * update, and each of `updates` updates adds the next contiguous share of every class's training
 * photos (by file name), e.g. 3 updates of 10 of its 30 photos.
 */
export async function runInstanceScenario(data: DomainData, factory: ScenarioLearnerFactory, updates = 3, domain: Domain = 'photo'): Promise<InstanceStepResult[]> {
  const train = data.train[domain];
  const rowsOfClass = new Map<string, number[]>();
  train.labels.forEach((label, row) => {
    const rows = rowsOfClass.get(label) ?? [];
    rows.push(row);
    rowsOfClass.set(label, rows);
  });
  const parts = Array.from({ length: updates }, (_, u) =>
    selectRows(
      train,
      [...rowsOfClass.values()].flatMap((rows) => rows.slice(Math.floor((u * rows.length) / updates), Math.floor(((u + 1) * rows.length) / updates))),
    ),
  );
  const learner = factory();
  const out: InstanceStepResult[] = [];
  for (let u = 0; u < updates; u++) {
    const seen = concatFeatures(parts.slice(0, u + 1), train.dim);
    const t0 = performance.now();
    await learner.learn({ classNames: data.classes, added: parts[u]!, seen });
    out.push({ added: parts[u]!.count, seen: seen.count, accuracy: await accuracy(learner, data.test[domain]), learnMs: performance.now() - t0 });
  }
  return out;
}
