// A trainer that picks its device only when a learner first asks it to train: an update can
// always offer one (learners that need none, like analytic, never start ONNX Runtime for it),
// and afterwards it says which device actually ran the training, if any did.
import type { DeviceChoice, DeviceReport } from '../runtime/devices.js';
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

  async close(): Promise<void> {
    if (this.created) await (await this.created).trainer.close();
  }
}
