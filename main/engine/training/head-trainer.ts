// The contract between learners that train a head by gradient descent and the engines that run
// the optimizer steps: ONNX Runtime graphs that the app builds itself (onnx-trainer.ts), or plain
// TypeScript loops (typescript-trainer.ts: the reference that the graphs are checked against and
// measured against). A learner picks batches, schedules and losses; a trainer only executes them,
// so swapping one trainer for the other must not change results beyond float rounding.
//
// Math, shared by every trainer (B = batch size, w = per-sample weight, default 1):
//   logits z = x·W1ᵀ + b1                                  (linear head)
//            = relu(x·W1ᵀ + b1)·W2ᵀ + b2                    (one hidden layer)
//   loss     = (1/B) Σᵢ wᵢ · ( −log softmax(zᵢ)[yᵢ]  +  α · T² · CE(softmax(tᵢ/T), softmax(zᵢ[0:K]/T)) )
//   where the second term (distillation, LwF/iCaRL style) is present only with `loss.distillation`:
//   K old classes, teacher logits t (count × K), temperature T, weight α.
//   Optimizers (PyTorch conventions; step counts from 1):
//     sgd:   g ← g + λθ;  v ← μv + g;  θ ← θ − η·v
//     adam:  g ← g + λθ;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η·m̂/(√v̂ + ε)
//     adamw: as adam without λ in g, then θ ← θ − η·λ·θ as well (decoupled weight decay)
//   with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), η = learningRate × schedule[step] (schedule default 1).

export interface HeadArchitecture {
  readonly inputDim: number;
  /** 0: a linear head; otherwise the width of one hidden ReLU layer. */
  readonly hiddenDim: number;
  readonly classCount: number;
}

/**
 * Parameters in a fixed order, row-major, one weight row per output unit:
 * linear: [W1 (C×D), b1 (C)]; hidden: [W1 (H×D), b1 (H), W2 (C×H), b2 (C)].
 */
export type HeadParameters = readonly Float32Array[];

export type OptimizerKind = 'sgd' | 'adam' | 'adamw';

export interface OptimizerSettings {
  readonly kind: OptimizerKind;
  readonly learningRate: number;
  /** sgd only; default 0.9. */
  readonly momentum?: number;
  /** adam/adamw; defaults 0.9, 0.999, 1e-8. */
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  /** λ above; default 0. */
  readonly weightDecay?: number;
}

/**
 * Optimizer state, carried between train() calls and stored with the model version so that a
 * rollback continues exactly. sgd: one velocity per parameter; adam/adamw: first moments of every
 * parameter, then second moments of every parameter. `step` counts the steps taken so far.
 */
export interface OptimizerState {
  readonly moments: readonly Float32Array[];
  readonly step: number;
}

export interface DistillationSettings {
  /** K: the first K logits are distilled towards the teacher's. */
  readonly classCount: number;
  readonly temperature: number;
  readonly weight: number;
}

export interface LossSettings {
  readonly distillation?: DistillationSettings;
}

export interface TrainingSamples {
  /** count × inputDim, row-major. */
  readonly features: Float32Array;
  /** count labels in [0, classCount). */
  readonly labels: Int32Array;
  readonly count: number;
  /** Per-sample loss weight (e.g. class balancing); default 1 each. */
  readonly weights?: Float32Array;
  /** count × distillation.classCount teacher logits; required when distilling. */
  readonly teacherLogits?: Float32Array;
}

export interface TrainRequest {
  readonly architecture: HeadArchitecture;
  readonly optimizer: OptimizerSettings;
  readonly loss: LossSettings;
  readonly parameters: HeadParameters;
  readonly state: OptimizerState;
  readonly samples: TrainingSamples;
  /** steps × batchSize sample indices into `samples`: row s is the batch of optimizer step s. */
  readonly batches: Int32Array;
  readonly batchSize: number;
  /** Per-step learning-rate multipliers (length = steps); default 1 each. */
  readonly schedule?: Float32Array;
}

export interface TrainResult {
  readonly parameters: HeadParameters;
  readonly state: OptimizerState;
  /** The loss of every step, computed before that step's update. */
  readonly losses: Float32Array;
}

export interface HeadTrainer {
  /** 'typescript', or the ONNX Runtime execution provider that ran the steps ('cpu', 'cuda', …). */
  readonly device: string;
  train(request: TrainRequest, signal?: AbortSignal): Promise<TrainResult>;
  close(): Promise<void>;
}

/** Parameter shapes [rows, cols] (cols = 1 for biases… given as [n]) in HeadParameters order. */
export function parameterShapes(architecture: HeadArchitecture): number[][] {
  const { inputDim: d, hiddenDim: h, classCount: c } = architecture;
  return h === 0 ? [[c, d], [c]] : [[h, d], [h], [c, h], [c]];
}

/** Zero optimizer state for `parameters`. */
export function initialOptimizerState(kind: OptimizerKind, parameters: HeadParameters): OptimizerState {
  const copies = kind === 'sgd' ? 1 : 2;
  const moments: Float32Array[] = [];
  for (let k = 0; k < copies; k++) for (const p of parameters) moments.push(new Float32Array(p.length));
  return { moments, step: 0 };
}

/** Checks a request against the contract; trainers call it first so both reject the same inputs. */
export function validateTrainRequest(request: TrainRequest): { steps: number } {
  const { architecture, parameters, state, samples, batches, batchSize, optimizer, loss, schedule } = request;
  const shapes = parameterShapes(architecture);
  if (parameters.length !== shapes.length) throw new Error(`expected ${shapes.length} parameter tensors, got ${parameters.length}`);
  shapes.forEach((shape, i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (parameters[i]!.length !== size) throw new Error(`parameter ${i} has ${parameters[i]!.length} values, expected ${size}`);
  });
  const copies = optimizer.kind === 'sgd' ? 1 : 2;
  if (state.moments.length !== copies * parameters.length) throw new Error(`optimizer state has ${state.moments.length} moments, expected ${copies * parameters.length}`);
  state.moments.forEach((m, i) => {
    if (m.length !== parameters[i % parameters.length]!.length) throw new Error(`moment ${i} has the wrong size`);
  });
  if (samples.features.length !== samples.count * architecture.inputDim) throw new Error('features do not match count × inputDim');
  if (samples.labels.length !== samples.count) throw new Error('labels do not match count');
  for (const label of samples.labels) if (label < 0 || label >= architecture.classCount) throw new Error(`label ${label} out of range`);
  if (samples.weights && samples.weights.length !== samples.count) throw new Error('weights do not match count');
  if (loss.distillation) {
    const k = loss.distillation.classCount;
    if (!(k > 0 && k <= architecture.classCount)) throw new Error(`distillation over ${k} classes of ${architecture.classCount}`);
    if (!samples.teacherLogits || samples.teacherLogits.length !== samples.count * k) throw new Error('distillation needs count × K teacher logits');
  }
  if (!(batchSize > 0) || batches.length % batchSize !== 0) throw new Error('batches must be steps × batchSize indices');
  for (const index of batches) if (index < 0 || index >= samples.count) throw new Error(`batch index ${index} out of range`);
  const steps = batches.length / batchSize;
  if (schedule && schedule.length !== steps) throw new Error('schedule needs one multiplier per step');
  return { steps };
}
