import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ApiMethod, ApiRequest, ApiResult, AppSettings, EngineEvent, SettingsResult } from '../api/app-api.js';
import type { DeviceReportOut } from '../api/contract.js';
import { loadCatalog } from '../backbones/catalog.js';
import { exportedModelPath } from '../export/exported-files.js';
import { runExport } from '../export/export-model.js';
import { NoModelError } from '../use-cases/head-model.js';
import { importFiles } from '../use-cases/import-files.js';
import { CancelledError } from '../api/error-codes.js';
import { learnerDescriptionsFor } from '../learners/descriptions.js';
import { learnerIds } from '../learners/registry.js';
import { projectOverview } from '../use-cases/overview.js';
import { DEFAULT_SETTINGS, headBackboneId, Project, UsageError, type ProjectOptions, type ProjectSettings } from '../project/project.js';
import { DEVICE_CHOICES, type DeviceChoice } from '../runtime/devices.js';
import { StoreStateError } from '../store/store-errors.js';
import { UpdateInProgressError } from '../store/updates.js';
import { samplePreview, sampleThumbnail } from '../use-cases/thumbnail.js';
import { runUpdate } from '../use-cases/update.js';
import { excludeSample, includeSample } from '../use-cases/review/exclude-sample.js';
import { moveSample, undoMove } from '../use-cases/review/move-sample.js';
import { runReview } from '../use-cases/review/review.js';
import { summarizeVersion, type StoredVersionMetrics } from '../use-cases/version-summary.js';
import { listVersions, rollback } from '../use-cases/versions.js';
import { watchProject } from '../use-cases/watch-project.js';
import type { PredictOptions } from '../use-cases/predict.js';
import { WarmPredictor } from '../use-cases/warm-predictor.js';
import { fleetStatus } from '../use-cases/fleet-commands.js';

/** Where the engine finds its project and backbone files; the rest comes from saved settings. */
export interface EngineOptions {
  root: string;
  stateDir?: string | undefined;
  modelDir?: string | undefined;
  cacheDir?: string | undefined;
  allowDownload?: boolean | undefined;
  /** keep the folder watcher off (tests of one-shot calls) */
  watch?: boolean | undefined;
}

const DEVICE_KEY = 'app.device';
const WATCH_RESTART_MS = 3000;
/** Quiet time after a watch batch before checking that no file slipped past the watcher. */
const RECONCILE_AFTER_MS = 2500;
const RECONCILE_AT_MOST_EVERY_MS = 10_000;
/** The provider the last inference ran on, kept across restarts for the settings screen. */
const LAST_DEVICE_KEY = 'app.lastDevice';

/**
 * The app's engine: answers API calls for one project and keeps a folder watcher running
 * between updates, so files added in a file manager are embedded in the background. An
 * update pauses the watcher (both would embed the same files on the same two cores) and
 * resumes it afterwards. Runs inside a worker thread (engine-worker.ts).
 */
export class EngineService {
  private readonly project: Project;
  private update: { abort: AbortController } | undefined;
  private watcher: { abort: AbortController; done: Promise<void> } | undefined;
  private closed = false;
  private watcherState: 'starting' | 'watching' | 'paused' | 'stopped' = 'stopped';
  private reconcileTimer: ReturnType<typeof setTimeout> | undefined;
  private lastReconcile = 0;
  /** the state folder cannot be written (read-only media): versions, results and predictions only */
  private readOnly = false;
  /** keeps the model and backbone session open between predictions (the live camera asks several a second) */
  private readonly predictor = new WarmPredictor();

  constructor(
    private readonly options: EngineOptions,
    private readonly emit: (event: EngineEvent) => void,
  ) {
    this.project = this.openMainProject();
  }

  start(): void {
    if (this.options.watch !== false && !this.readOnly) this.startWatcher();
  }

  /** A project on read-only media still opens, to look at; everything that would write says why. */
  private openMainProject(): Project {
    try {
      return Project.open(this.projectOptions());
    } catch (error) {
      if (!(error instanceof StoreStateError) || error.problem !== 'read-only') throw error;
      this.readOnly = true;
      return Project.open(this.projectOptions());
    }
  }

  private refuseIfReadOnly(what: string): void {
    if (this.readOnly) {
      throw new StoreStateError(`this project's state folder is read-only, so Keizoku cannot ${what}; versions, results and Try it still work`, 'read-only');
    }
  }

  async call<M extends ApiMethod>(method: M, request: ApiRequest<M>): Promise<ApiResult<M>> {
    const handler = this.handlers[method] as (request: ApiRequest<M>) => Promise<ApiResult<M>>;
    return handler(request);
  }

  private readonly handlers: { [M in ApiMethod]: (request: ApiRequest<M>) => Promise<ApiResult<M>> } = {
    overview: async () => ({ ...(await projectOverview(this.project)), watcher: this.watcherState, readOnly: this.readOnly }),
    update: async () => this.runUpdate(),
    cancelUpdate: async () => {
      if (!this.update) return { cancelled: false };
      this.update.abort.abort(new Error('cancelled'));
      return { cancelled: true };
    },
    versions: async () => listVersions(this.project),
    versionDetail: async ({ id }) => {
      const version = this.project.store.versions.get(id);
      if (!version) throw new UsageError(`no version ${id}`);
      const metrics = version.metrics as StoredVersionMetrics;
      return {
        version: summarizeVersion(version, this.project.store),
        metrics: metrics.report,
        device: metrics.device ?? null,
        addedClasses: version.classes.filter((entry) => entry.introducedIn === version.id).map((entry) => entry.name),
      };
    },
    rollback: async ({ id }) => {
      this.refuseIfReadOnly('roll back');
      if (this.update) throw new UpdateInProgressError('an update is running; roll back when it has finished');
      const result = rollback(this.project, id);
      this.emit({ type: 'changed', what: 'versions' });
      return result;
    },
    importFiles: async ({ files }) => {
      this.refuseIfReadOnly('add files to it');
      const result = await importFiles(
        this.project.root,
        files.map((file) => ({ className: file.className, fileName: file.fileName, bytes: Buffer.from(file.dataBase64, 'base64') })),
        { stateDir: this.project.stateDir },
      );
      this.emit({ type: 'changed', what: 'files' });
      return result;
    },
    predictImages: async ({ images, top, keepEmbeddings }) => this.predictImages(images, { top: top ?? 5, keepEmbeddings }),
    thumbnail: async ({ path: relPath }) => ({ path: relPath, dataUrl: await sampleThumbnail(this.project.root, relPath, this.project.stateDir) }),
    samplePreview: async ({ path: relPath }) => ({ path: relPath, dataUrl: await samplePreview(this.project.root, relPath, this.project.stateDir) }),
    settings: async () => this.settingsResult(),
    fleetStatus: async () => fleetStatus(this.project),
    setSettings: async (changes) => this.setSettings(changes),
    exportModel: async () => {
      this.refuseIfReadOnly('export into it');
      const head = this.project.store.versions.headId();
      if (head === null) throw new NoModelError('no model yet: update first, then export');
      return runExport(this.project, exportedModelPath(this.project.stateDir, head));
    },
    review: async ({ limit }) => runReview(this.project, { limit }),
    moveSample: async ({ path: relPath, toClass }) => this.changeFiles('move files', () => moveSample(this.project, relPath, toClass)),
    undoMove: async ({ id }) => this.changeFiles('move files', () => undoMove(this.project, id)),
    excludeSample: async ({ path: relPath }) => this.changeFiles('exclude files', () => excludeSample(this.project, relPath)),
    includeSample: async ({ path: relPath }) => this.changeFiles('include files', async () => includeSample(this.project, relPath)),
    prepareBackbone: async () => {
      const project = Project.open({ ...this.projectOptions(), onProgress: (event) => this.emit({ type: 'progress', task: 'backbone', ...event }) });
      try {
        const backbone = await project.backbone();
        return { backbone: backbone.key, featureDim: backbone.featureDim };
      } finally {
        project.close();
      }
    },
  };

  /** Review's file actions: not while an update runs (it has already read the folders). */
  private async changeFiles<T>(what: string, action: () => Promise<T>): Promise<T> {
    this.refuseIfReadOnly(what);
    if (this.update) throw new UpdateInProgressError(`an update is running; ${what} when it has finished`);
    const result = await action();
    this.emit({ type: 'changed', what: 'files' });
    return result;
  }

  private projectOptions(): ProjectOptions {
    return {
      access: this.readOnly ? 'read' : 'write',
      root: this.options.root,
      stateDir: this.options.stateDir,
      modelDir: this.options.modelDir,
      cacheDir: this.options.cacheDir,
      allowDownload: this.options.allowDownload,
      device: this.project?.store.settings.get<DeviceChoice>(DEVICE_KEY) ?? 'auto',
    };
  }

  private async runUpdate(): Promise<ApiResult<'update'>> {
    this.refuseIfReadOnly('update the model');
    if (this.update) throw new UpdateInProgressError('an update is already running');
    const abort = new AbortController();
    this.update = { abort };
    this.emit({ type: 'task', task: 'update', state: 'started' });
    await this.stopWatcher();
    const project = Project.open({
      ...this.projectOptions(),
      signal: abort.signal,
      onProgress: (event) => this.emit({ type: 'progress', task: 'update', ...event }),
    });
    try {
      const result = await runUpdate(project);
      this.noteDevice(result.device);
      this.emit({ type: 'task', task: 'update', state: 'finished' });
      return result;
    } catch (error) {
      const cancelled = abort.signal.aborted;
      this.emit({ type: 'task', task: 'update', state: cancelled ? 'cancelled' : 'failed', message: error instanceof Error ? error.message : String(error) });
      throw cancelled ? new CancelledError('update cancelled; the previous version is still current') : error;
    } finally {
      project.close();
      this.update = undefined;
      this.emit({ type: 'changed', what: 'versions' });
      this.emit({ type: 'changed', what: 'files' });
      if (!this.closed && this.options.watch !== false) this.startWatcher();
    }
  }

  private async predictImages(images: ReadonlyArray<{ name: string; dataBase64: string }>, options: PredictOptions): Promise<ApiResult<'predictImages'>> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'keizoku-predict-'));
    const project = Project.open({ ...this.projectOptions(), onProgress: (event) => this.emit({ type: 'progress', task: 'predict', ...event }) });
    try {
      const files = await Promise.all(
        images.map(async (image, index) => {
          const file = path.join(dir, `${index}${path.extname(image.name).replace(/[^.\w]/g, '')}`);
          await writeFile(file, Buffer.from(image.dataBase64, 'base64'));
          return { file, name: image.name };
        }),
      );
      const nameOf = new Map(files.map((entry) => [entry.file, entry.name]));
      const result = await this.predictor.predict(project, files.map((entry) => entry.file), options);
      this.noteDevice(result.device);
      const rename = (p: string) => nameOf.get(path.resolve(p)) ?? nameOf.get(p) ?? path.basename(p);
      return {
        ...result,
        predictions: result.predictions.map((entry) => ({ ...entry, path: rename(entry.path) })),
        failed: result.failed.map((entry) => ({ ...entry, path: rename(entry.path) })),
      };
    } finally {
      project.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  private settingsResult(): SettingsResult {
    const catalog = loadCatalog();
    const saved = this.project.store.settings.get<Partial<ProjectSettings>>('project') ?? {};
    const settings: AppSettings = {
      backbone: saved.backbone ?? headBackboneId(this.project.store) ?? catalog.default,
      device: this.project.store.settings.get<DeviceChoice>(DEVICE_KEY) ?? 'auto',
      learner: saved.learner ?? DEFAULT_SETTINGS.learner,
      replayPerClass: saved.replayPerClass ?? DEFAULT_SETTINGS.replayPerClass,
      replayMegabytes: saved.replayMegabytes ?? DEFAULT_SETTINGS.replayMegabytes,
      heldOutFraction: saved.heldOutFraction ?? DEFAULT_SETTINGS.heldOutFraction,
    };
    const head = this.project.store.versions.head();
    const headDevice = (head?.metrics as StoredVersionMetrics | undefined)?.device ?? null;
    return {
      settings,
      backbones: catalog.backbones.map((entry) => ({ id: entry.id, name: entry.name, bytes: entry.bytes, featureDim: entry.featureDim, isDefault: entry.id === catalog.default })),
      learners: [...learnerIds],
      learnerDescriptions: learnerDescriptionsFor(learnerIds),
      devices: [...DEVICE_CHOICES],
      activeDevice: this.project.store.settings.get<DeviceReportOut>(LAST_DEVICE_KEY) ?? headDevice,
    };
  }

  private setSettings(changes: Partial<AppSettings>): SettingsResult {
    this.refuseIfReadOnly('change its settings');
    const { settings: current } = this.settingsResult();
    if (changes.learner !== undefined && !(learnerIds as readonly string[]).includes(changes.learner)) {
      throw new UsageError(`unknown learner "${changes.learner}" (known: ${learnerIds.join(', ')})`);
    }
    if (changes.backbone !== undefined && !loadCatalog().backbones.some((entry) => entry.id === changes.backbone)) {
      throw new UsageError(`unknown backbone "${changes.backbone}"`);
    }
    const next = { ...current, ...changes };
    const { store } = this.project;
    const saved = store.settings.get<Partial<ProjectSettings>>('project') ?? {};
    // A project not yet pinned to a backbone stays unpinned until its first update chooses
    // one for this machine's device (default-choice.ts), unless the user picks one here.
    const backbone = changes.backbone ?? saved.backbone ?? headBackboneId(store);
    store.transaction(() => {
      // The same record `keizoku update` reads, so the CLI and the app agree on the settings.
      store.settings.set('project', {
        backbone,
        learner: next.learner,
        replayPerClass: next.replayPerClass,
        replayMegabytes: next.replayMegabytes,
        heldOutFraction: next.heldOutFraction,
      } satisfies ProjectSettings);
      store.settings.set(DEVICE_KEY, next.device);
    });
    this.emit({ type: 'changed', what: 'settings' });
    if (changes.backbone !== undefined && changes.backbone !== current.backbone) void this.restartWatcher();
    return this.settingsResult();
  }

  private noteDevice(device: DeviceReportOut | null): void {
    if (device && !this.readOnly) this.project.store.settings.set(LAST_DEVICE_KEY, device);
  }

  private startWatcher(): void {
    const abort = new AbortController();
    const project = Project.open({
      ...this.projectOptions(),
      // Stopping the watcher also stops the batch it is embedding, so an update starts at once.
      signal: abort.signal,
      onProgress: (event) => {
        if (event.phase === 'watch') {
          this.watcherState = 'watching';
          this.scheduleReconcile();
        }
        this.emit({ type: 'progress', task: 'watch', ...event });
        if (event.phase === 'watch') this.emit({ type: 'changed', what: 'files' });
      },
    });
    this.watcherState = 'starting';
    this.emit({ type: 'task', task: 'watch', state: 'started' });
    const done = watchProject(project, abort.signal, (event) => {
      if (event.kind !== 'added' && event.kind !== 'changed') this.emit({ type: 'changed', what: 'files' });
    })
      .then((result) => {
        this.noteDevice(result.device);
        this.emit({ type: 'task', task: 'watch', state: abort.signal.aborted ? 'cancelled' : 'finished' });
      })
      .catch((error: unknown) => {
        if (abort.signal.aborted) {
          this.emit({ type: 'task', task: 'watch', state: 'cancelled' });
          return;
        }
        const message = error instanceof Error ? error.message : String(error);
        console.error(`keizoku: the folder watcher stopped: ${message}; restarting it`);
        this.emit({ type: 'task', task: 'watch', state: 'failed', message });
        // A watcher that dies (a folder vanishing mid-scan, a backbone not yet available) is
        // restarted, so files dropped later are still picked up.
        setTimeout(() => {
          if (this.watcher?.abort === abort) void this.restartWatcher();
        }, WATCH_RESTART_MS);
      })
      .finally(() => {
        if (this.watcher?.abort === abort || this.watcher === undefined) this.watcherState = this.update ? 'paused' : 'stopped';
        project.close();
        this.emit({ type: 'changed', what: 'files' });
      });
    this.watcher = { abort, done };
  }

  /**
   * A file written into a folder the instant the folder appears can slip past the file
   * watcher (it lists the new folder before it watches it). Once the watcher has been quiet
   * for a moment, compare the folders with the samples table, and if something is neither
   * embedded nor judged, restart the watcher: its first scan picks it up.
   */
  private scheduleReconcile(): void {
    clearTimeout(this.reconcileTimer);
    this.reconcileTimer = setTimeout(() => void this.reconcile().catch(() => undefined), RECONCILE_AFTER_MS);
  }

  private async reconcile(): Promise<void> {
    if (this.closed || this.update || this.watcherState !== 'watching') return;
    if (Date.now() - this.lastReconcile < RECONCILE_AT_MOST_EVERY_MS) return this.scheduleReconcile();
    const { totals } = await projectOverview(this.project);
    if (totals.files > totals.ready) {
      this.lastReconcile = Date.now();
      await this.restartWatcher();
    }
  }

  private async stopWatcher(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    if (!watcher) return;
    watcher.abort.abort();
    await watcher.done;
  }

  private async restartWatcher(): Promise<void> {
    if (this.update || this.options.watch === false) return;
    await this.stopWatcher();
    if (!this.closed && !this.update) this.startWatcher();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconcileTimer);
    this.update?.abort.abort(new Error('closing'));
    await this.stopWatcher();
    await this.predictor.close();
    this.project.close();
  }
}
