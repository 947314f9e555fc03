import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { findCatalogEntry } from '../backbones/catalog.js';
import { chooseDefaultBackbone } from '../backbones/default-choice.js';
import { resolveBackbone, type ResolvedBackbone } from '../backbones/resolve.js';
import { defaultCacheDir } from '../backbones/model-files.js';
import { learnerTrainsBackboneTop } from '../learners/registry.js';
import type { ProgressListener } from '../api/contract.js';
import type { DeviceChoice } from '../runtime/devices.js';
import type { StoreAccess } from '../store/database.js';
import { ProjectStore } from '../store/index.js';

export const STATE_DIR_NAME = '.keizoku';

/** What a command was asked for; anything left out comes from the project's saved settings. */
export interface ProjectOptions {
  root: string;
  stateDir?: string | undefined;
  backbone?: string | undefined;
  featureOutput?: string | undefined;
  modelDir?: string | undefined;
  cacheDir?: string | undefined;
  allowDownload?: boolean | undefined;
  device?: DeviceChoice | undefined;
  learner?: string | undefined;
  heldOutFraction?: number | undefined;
  replayPerClass?: number | undefined;
  replayMegabytes?: number | undefined;
  onProgress?: ProgressListener | undefined;
  signal?: AbortSignal | undefined;
  /** 'read' for commands that only look: the state is opened read-only and nothing is written (default 'write') */
  access?: StoreAccess | undefined;
}

/** Settings a project remembers between runs, so a bare `keizoku update` continues as before. */
export interface ProjectSettings {
  backbone: string | undefined;
  learner: string;
  heldOutFraction: number;
  replayPerClass: number;
  /** Replay buffer budget in megabytes (10⁶ bytes) for learners that keep one; 0: per class only. */
  replayMegabytes: number;
}

export const DEFAULT_SETTINGS: Omit<ProjectSettings, 'backbone'> = {
  learner: 'analytic',
  heldOutFraction: 0.2,
  replayPerClass: 20,
  replayMegabytes: 0,
};

export class UsageError extends Error {}

/**
 * The catalog id of the backbone the head version was trained on. A project whose settings
 * name no backbone (made before they were saved) stays on it, whatever the catalog's default
 * has become since: its cached embeddings and versions are that backbone's.
 */
export function headBackboneId(store: ProjectStore): string | undefined {
  const key = store.versions.head()?.backbone;
  const id = key?.split('@')[0];
  return id !== undefined && findCatalogEntry(id) ? id : undefined;
}

/** An open project: its folder, its state store and its effective settings. */
export class Project {
  /** By form: whole (features) or split for fine-tuning (cut activations). */
  private readonly backboneCache = new Map<boolean, ResolvedBackbone>();

  private constructor(
    readonly root: string,
    readonly store: ProjectStore,
    readonly settings: ProjectSettings,
    readonly options: ProjectOptions,
  ) {}

  static open(options: ProjectOptions): Project {
    const root = path.resolve(options.root);
    if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`project folder not found: ${root}`);
    const stateDir = path.resolve(options.stateDir ?? path.join(root, STATE_DIR_NAME));
    const store = ProjectStore.open(stateDir, options.access ?? 'write');
    const saved = store.settings.get<Partial<ProjectSettings>>('project') ?? {};
    const settings: ProjectSettings = {
      backbone: options.backbone ?? saved.backbone ?? headBackboneId(store),
      learner: options.learner ?? saved.learner ?? DEFAULT_SETTINGS.learner,
      heldOutFraction: options.heldOutFraction ?? saved.heldOutFraction ?? DEFAULT_SETTINGS.heldOutFraction,
      replayPerClass: options.replayPerClass ?? saved.replayPerClass ?? DEFAULT_SETTINGS.replayPerClass,
      replayMegabytes: options.replayMegabytes ?? saved.replayMegabytes ?? DEFAULT_SETTINGS.replayMegabytes,
    };
    if (!(settings.heldOutFraction >= 0 && settings.heldOutFraction < 1)) {
      store.close();
      throw new UsageError(`held-out fraction must be in [0, 1), got ${settings.heldOutFraction}`);
    }
    return new Project(root, store, settings, options);
  }

  get stateDir(): string {
    return this.store.stateDir;
  }

  /** Saves the effective settings; called when an update commits. */
  saveSettings(): void {
    if (!this.store.writable) return;
    this.store.settings.set('project', this.settings);
  }

  /** The backbone to embed with for `learnerId` (default: the project's learner); split for
   * fine-tuning when that learner trains its top (then the cached vectors are cut activations,
   * under a key of their own). A version is scored with its own learner's form, whatever the
   * settings say now. */
  async backbone(learnerId: string = this.settings.learner): Promise<ResolvedBackbone> {
    const fineTuning = learnerTrainsBackboneTop(learnerId);
    let resolved = this.backboneCache.get(fineTuning);
    if (!resolved) {
      this.options.onProgress?.({ phase: 'backbone', done: 0, total: 1, message: 'preparing backbone' });
      const sources = {
        cacheDir: this.options.cacheDir ?? defaultCacheDir(),
        mirrorDir: this.options.modelDir ?? process.env.KEIZOKU_MODEL_DIR,
        allowDownload: this.options.allowDownload ?? true,
        featureOutput: this.options.featureOutput,
        onProgress: (received: number, total: number) =>
          this.options.onProgress?.({ phase: 'backbone', done: received, total, message: 'downloading backbone' }),
      };
      // Chosen for this machine once; saved with the settings at the first commit.
      this.settings.backbone ??= (await chooseDefaultBackbone(this.options.device ?? 'auto')).id;
      resolved = await resolveBackbone(this.settings.backbone, sources, { fineTuning });
      this.backboneCache.set(fineTuning, resolved);
      this.options.onProgress?.({ phase: 'backbone', done: 1, total: 1 });
    }
    return resolved;
  }

  close(): void {
    this.store.close();
  }
}
