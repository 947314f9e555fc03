import type { UpdateResult } from '../api/contract.js';
import { argmaxClassNames, buildAccuracyReport, predictClassNames } from '../evaluation/accuracy-report.js';
import { calibrateOnHeldOut } from '../evaluation/confidence.js';
import { loadBackboneTop } from '../finetune/backbone-top.js';
import { maybeCrash } from './fault-injection.js';
import { FeatureRuntime } from '../runtime/feature-runtime.js';
import { OnDemandTrainer } from '../training/on-demand-trainer.js';
import { getLearner, type HyperParameters, type LabeledFeatures } from '../learners/index.js';
import type { Project } from '../project/project.js';
import { syncSamples } from './sample-sync.js';
import type { Member, VersionClass } from '../store/versions.js';
import { subGroupsByMember } from '../evaluation/sub-groups.js';
import { buildTrainingSet, diffMembers, selectReplayBuffer } from './training-set.js';
import { HeadMovedError } from './update-errors.js';
import { summarizeVersion } from './version-summary.js';
import { fleetLocalStart, mergeWithFleet, refuseInexactFleetLearner, sameSources, type FleetMerge } from './fleet-update.js';
import { readFleetConfig } from '../fleet/config.js';

/**
 * One incremental update: sync the folders (embedding only what is new), learn the
 * difference between the new training set and the head version's, evaluate on held-out
 * samples, and commit the new version as one transaction. Until that commit the previous
 * head is untouched, whatever happens to the process. The project's update lock is held
 * throughout (store.updates.start), and the commit checks that the head is still the one
 * it learned from.
 */
export async function runUpdate(project: Project): Promise<UpdateResult> {
  const { store, settings, options } = project;
  const started = performance.now();
  const learner = getLearner(settings.learner);
  const updateId = store.updates.start();
  let runtime: FeatureRuntime | undefined;
  // Gradient-trained learners run their steps as ONNX graphs on the same --device as the backbone.
  const trainer = new OnDemandTrainer(options.device ?? 'auto');
  try {
    const backbone = await project.backbone();
    runtime = new FeatureRuntime(backbone, options.device ?? 'auto');
    maybeCrash('before-scan');
    const sync = await syncSamples(project, runtime);
    maybeCrash('after-embed');
    options.signal?.throwIfAborted();

    const trainStarted = performance.now();
    // Files excluded on the Review screen are neither trained on nor held out; their split is cleared.
    const excluded = store.exclusions.paths();
    const samples = store.samples.all().filter((sample) => !excluded.has(sample.relPath));
    const set = buildTrainingSet(sync.classNames, samples, settings.heldOutFraction);
    const splits = [...set.splits, ...[...excluded].map((relPath) => ({ relPath, split: null }))];
    const head = store.versions.head();
    const continuesHead =
      head !== undefined && head.backbone === backbone.key && head.learner === learner.id && head.featureDim === backbone.featureDim;
    const fleetConfig = readFleetConfig(store.settings);
    if (fleetConfig) refuseInexactFleetLearner(learner.id);
    const previousMembers = continuesHead ? store.versions.members(head.id) : [];
    const delta = diffMembers(previousMembers, set.train);
    const headClassNames = head ? head.classes.map((entry) => entry.name) : [];
    // A version merged from a fleet predicts with the fleet model, but this device continues
    // from (and publishes) its own statistics only, kept beside it (fleet_versions).
    const start = fleetLocalStart(store, learner, continuesHead ? head : undefined, headClassNames);
    const previousState = start.localState;
    const localHeadNames = start.localClassNames;
    // Output order: the head's classes keep their positions; new ones follow, sorted.
    const localClassNames = [...localHeadNames.filter((name) => set.classNames.includes(name)), ...set.classNames.filter((name) => !localHeadNames.includes(name))];
    const localClassesChanged = localClassNames.length !== localHeadNames.length || localClassNames.some((name, i) => name !== localHeadNames[i]);
    const localUnchanged = continuesHead && delta.added.length === 0 && delta.removed.length === 0 && !localClassesChanged;
    const classesAgainstHead = (finalNames: readonly string[]) => ({
      added: finalNames.filter((name) => !headClassNames.includes(name)),
      removed: headClassNames.filter((name) => !finalNames.includes(name)),
    });

    const baseFor = (finalNames: readonly string[]) => {
      const change = classesAgainstHead(finalNames);
      return {
        command: 'update' as const,
        classes: { added: change.added, removed: change.removed, empty: set.emptyClasses, total: finalNames.length },
        failed: sync.failed,
      };
    };
    const sampleCounts = {
      files: sync.files,
      train: set.train.length,
      heldOut: set.heldOut.length,
      embedded: sync.embedded,
      fromCache: sync.fromCache,
      failed: sync.failed.length,
    };

    const keepHead = (fleet: FleetMerge | null): UpdateResult => {
      store.transaction(() => {
        refuseMovedHead(store, head!.id);
        store.samples.setSplits(splits);
        store.updates.finish(updateId, 'unchanged', { versionId: head!.id });
      });
      const total = performance.now() - started;
      return {
        ...baseFor(headClassNames),
        status: 'unchanged',
        version: summarizeVersion(head!, store),
        samples: { ...sampleCounts, learned: 0, unlearned: 0 },
        metrics: (head!.metrics as { report: UpdateResult['metrics'] }).report,
        device: runtime!.report,
        trainingDevice: null,
        timingsMs: { scan: sync.scanMs, embed: sync.embedMs, train: 0, evaluate: 0, commit: 0, total },
        ...(fleet ? { fleet: fleet.report } : {}),
      };
    };

    // Without a fleet, nothing new means nothing to do (unless the head holds other devices' data: leaving a fleet drops it).
    if (!fleetConfig && localUnchanged && !start.headIncludesRemote) return keepHead(null);
    if (localClassNames.length === 0) {
      throw new Error('no class folder holds a usable image yet: add one subfolder per class with images in it');
    }

    // A backbone split for fine-tuning: the learner's rows are cut activations, and it starts from this top.
    const backboneTop = loadBackboneTop(backbone);
    const dim = backbone.featureDim;
    const features = (members: readonly Member[]): LabeledFeatures => ({
      features: store.embeddings.matrix(
        members.map((member) => member.contentHash),
        backbone.key,
        dim,
      ),
      labels: members.map((member) => member.className),
      count: members.length,
      dim,
      keys: members.map((member) => member.contentHash),
    });
    // The learner's matrices are read for it alone: it may normalize them in place.
    const handedOver = (members: readonly Member[]): LabeledFeatures => ({ ...features(members), handedOver: true });
    options.onProgress?.({ phase: 'train', done: 0, total: 1, message: `${delta.added.length} to learn, ${delta.removed.length} to forget` });
    const localState = await learner.update(
      previousState,
      { classNames: localClassNames, added: handedOver(delta.added), removed: handedOver(continuesHead ? delta.removed : []) },
      {
        hyperParameters: bufferBudget(learner.defaultHyperParameters, settings),
        trainer,
        openGraph: trainer.openGraph,
        backboneTop,
        signal: options.signal,
        onProgress: (done, total) => options.onProgress?.({ phase: 'train', done, total }),
      },
    );
    const trainMs = performance.now() - trainStarted;
    maybeCrash('after-train');
    options.signal?.throwIfAborted();

    let state = localState;
    let fleet: FleetMerge | null = null;
    if (fleetConfig) {
      options.onProgress?.({ phase: 'train', done: 0, total: 1, message: `exchanging statistics with fleet ${fleetConfig.fleet}` });
      fleet = await mergeWithFleet({
        config: fleetConfig, learner, localState, localTrain: set.train, previousLocalState: previousState, previousTrain: previousMembers, backbone, headClassNames, features, signal: options.signal,
      });
      state = fleet.state;
      // Nothing new here, and the same messages as the head's (or none to be had): keep the head.
      if (localUnchanged && (fleet.report.status === 'skipped' || sameSources(start.headSources, fleet.sources))) {
        return keepHead(fleet);
      }
      options.signal?.throwIfAborted();
    }
    const classNames = [...learner.classNames(state)];
    const { added: addedClasses } = classesAgainstHead(classNames);
    const base = baseFor(classNames);

    const evaluateStarted = performance.now();
    options.onProgress?.({ phase: 'evaluate', done: 0, total: set.heldOut.length });
    const heldOut = features(set.heldOut);
    // One scoring pass serves both the accuracy report and the confidence calibration.
    const heldOutScores = heldOut.count === 0 ? new Float32Array(0) : await learner.predict(state, heldOut.features, heldOut.count);
    const scoreColumns = learner.classNames(state);
    const predicted = argmaxClassNames(heldOutScores, heldOut.count, scoreColumns);
    const calibration = calibrateOnHeldOut(heldOutScores, heldOut.labels, scoreColumns);
    // Compared with what the head predicted (its fleet model, where it has one).
    const headModel = start.headModel();
    const previousPredicted = headModel ? await predictClassNames(learner, headModel, heldOut) : null;
    const subGroups = subGroupsByMember(samples.filter((sample) => sample.status === 'ready' && set.classNames.includes(sample.className)));
    const report = buildAccuracyReport({
      truth: heldOut.labels,
      predicted,
      previousPredicted,
      classNames,
      newClasses: addedClasses,
      subGroups: { of: set.heldOut.map(subGroups.groupOf), known: subGroups.known },
    });
    const evaluateMs = performance.now() - evaluateStarted;
    maybeCrash('after-evaluate');

    const commitStarted = performance.now();
    options.onProgress?.({ phase: 'commit', done: 0, total: 1 });
    // A learner with its own buffer says what it kept; otherwise record the class-balanced default.
    const replay = learner.bufferedSamples
      ? learner.bufferedSamples(state).map(({ key, className }) => ({ contentHash: key, className }))
      : selectReplayBuffer(set.train, settings.replayPerClass);
    const versionId = store.transaction(() => {
      refuseMovedHead(store, head?.id ?? null);
      const nextId = store.versions.nextId();
      const introducedIn = new Map(head?.classes.map((entry) => [entry.name, entry.introducedIn]) ?? []);
      const classes: VersionClass[] = classNames.map((name) => ({ name, introducedIn: introducedIn.get(name) ?? nextId }));
      const id = store.versions.insert(
        {
          parentId: head?.id ?? null,
          learner: learner.id,
          backbone: backbone.key,
          featureDim: dim,
          classes,
          learnerState: learner.serialize(state),
          metrics: {
            report, trainSamples: set.train.length, heldOutSamples: set.heldOut.length, device: runtime!.report, trainingDevice: trainer.report, calibration,
            ...(fleet ? { fleet: fleet.report } : {}),
          },
          updateId,
        },
        set.train,
        replay,
      );
      if (fleet) fleet.record(store, id, learner.serialize(localState));
      store.samples.setSplits(splits);
      project.saveSettings();
      maybeCrash('inside-commit');
      store.updates.finish(updateId, 'committed', {
        versionId: id,
        device: runtime!.report?.device ?? 'cache',
        summary: { learned: delta.added.length, unlearned: delta.removed.length },
      });
      return id;
    });
    const commitMs = performance.now() - commitStarted;
    maybeCrash('after-commit');
    options.onProgress?.({ phase: 'commit', done: 1, total: 1 });

    return {
      ...base,
      status: 'committed',
      version: summarizeVersion(store.versions.get(versionId)!, store),
      samples: { ...sampleCounts, learned: delta.added.length, unlearned: continuesHead ? delta.removed.length : 0 },
      metrics: report,
      device: runtime.report,
      trainingDevice: trainer.report,
      ...(fleet ? { fleet: fleet.report } : {}),
      timingsMs: {
        scan: sync.scanMs,
        embed: sync.embedMs,
        train: trainMs,
        evaluate: evaluateMs,
        commit: commitMs,
        total: performance.now() - started,
      },
    };
  } catch (error) {
    try {
      store.updates.finish(updateId, 'failed', { error: error instanceof Error ? error.message : String(error) });
    } catch {
      // the journal cannot be written either (disk full, database gone): the error that stopped the update says more
    }
    throw error;
  } finally {
    store.updates.releaseLock();
    await runtime?.close();
    await trainer.close();
  }
}

/** Inside the commit transaction: the head must still be the version this update learned from. */
function refuseMovedHead(store: Project['store'], learnedFrom: number | null): void {
  const now = store.versions.headId();
  if (now === learnedFrom) return;
  const name = (id: number | null) => (id === null ? 'no version' : `version ${id}`);
  throw new HeadMovedError(
    `the current version changed while this update ran (it learned from ${name(learnedFrom)}, now ${name(now)} is current); nothing was committed: run update again`,
  );
}

/** The project's replay budget, for learners that keep a buffer (they declare these keys). */
function bufferBudget(defaults: HyperParameters, settings: Project['settings']): HyperParameters {
  return {
    ...('bufferPerClass' in defaults ? { bufferPerClass: settings.replayPerClass } : {}),
    ...('bufferMegabytes' in defaults ? { bufferMegabytes: settings.replayMegabytes } : {}),
  };
}
