// A trainer that picks its device only when a learner first asks it to train: an update can
// always offer one (learners that need none, like analytic, never start ONNX Runtime for it),
// and afterwards it says which device actually ran the training, if any did.
import type { InferenceSession } from 'onnxruntime-node';
import { openSession, type DeviceChoice, type DeviceReport } from '../runtime/devices.js';
import { createHeadTrainer, type CreatedHeadTrainer } from './create-head-trainer.js';
import type { HeadTrainer, TrainRequest, TrainResult } from './head-trainer.js';

export class OnDemandTrainer implements HeadTrainer {
  private created: Promise<CreatedHeadTrainer> | undefined;
  /** The device that trained, with the fallback reason; null until a train() call. */
  report: DeviceReport | null = null;

  constructor(private readonly choice: DeviceChoice) {}

  get device(): string {
    return this.report?.device ?? 'not started';
  }

  async train(request: TrainRequest, signal?: AbortSignal): Promise<TrainResult> {
    this.created ??= createHeadTrainer(this.choice);
    const { trainer, report } = await this.created;
    this.report = report; // a TypeScript fallback reports cpu, with the reason
    return trainer.train(request, signal);
  }

  /** A learner's own graph on the chosen device (falling back to CPU with the reason); the
   * device that opened it becomes this trainer's report. The caller releases the session. */
  readonly openGraph = async (model: Uint8Array): Promise<InferenceSession> => {
    const { session, report } = await openSession(model, this.choice);
    this.report = report;
    return session;
  };

  async close(): Promise<void> {
    if (this.created) await (await this.created).trainer.close();
  }
}
