import type { PredictResult } from '../api/contract.js';
import type { Project } from '../project/project.js';
import { FeatureRuntime } from '../runtime/feature-runtime.js';
import { loadHeadModel } from './head-model.js';
import { predictWithModel, type HeadModel, type PredictOptions } from './predict.js';

/** An idle predictor lets its backbone session go after this long (memory back to the app). */
const IDLE_RELEASE_MS = 30_000;

/**
 * Predictions for an app that asks many times in a row (Try it's live camera asks several
 * times a second): keeps the head model and its backbone session open between calls instead
 * of resolving the backbone and opening a session each time. Reloads when the head version,
 * its backbone or learner, the project's backbone setting or the device changes; releases the
 * session after a while without calls. Calls run one at a time.
 */
export class WarmPredictor {
  private warm: { key: string; model: HeadModel; runtime: FeatureRuntime } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** how many times the model was loaded and a session opened (tests check the reuse) */
  loads = 0;

  predict(project: Project, files: readonly string[], options: PredictOptions): Promise<PredictResult> {
    const run = this.queue.then(() => this.predictNow(project, files, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async predictNow(project: Project, files: readonly string[], options: PredictOptions): Promise<PredictResult> {
    const started = performance.now();
    clearTimeout(this.idleTimer);
    const head = project.store.versions.head();
    const device = project.options.device ?? 'auto';
    const key = JSON.stringify([head?.id, head?.backbone, head?.learner, project.settings.backbone, device]);
    if (this.warm?.key !== key) {
      await this.release();
      const model = await loadHeadModel(project); // throws NoModelError when there is no head
      this.warm = { key, model, runtime: new FeatureRuntime(model.backbone, device) };
      this.loads++;
    }
    try {
      return await predictWithModel(project, this.warm.model, this.warm.runtime, files, options, started);
    } finally {
      this.idleTimer = setTimeout(() => void this.close(), IDLE_RELEASE_MS);
      this.idleTimer.unref?.();
    }
  }

  /** Lets the session go (the next call opens it again). */
  close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const done = this.queue.then(() => this.release());
    this.queue = done.catch(() => undefined);
    return done;
  }

  private async release(): Promise<void> {
    const warm = this.warm;
    this.warm = undefined;
    await warm?.runtime.close();
  }
}
