// The reference trainer: the math of head-trainer.ts in plain TypeScript loops. It is what the
// ONNX Runtime graphs are checked against in tests and measured against in benchmarks, and the
// fallback where no ONNX Runtime session can be created.
import {
  validateTrainRequest, type HeadArchitecture, type HeadParameters, type HeadTrainer, type LossSettings,
  type OptimizerSettings, type TrainingSamples, type TrainRequest, type TrainResult,
} from './head-trainer.js';

export class TypeScriptTrainer implements HeadTrainer {
  readonly device = 'typescript';

  async train(request: TrainRequest, signal?: AbortSignal): Promise<TrainResult> {
    const { steps } = validateTrainRequest(request);
    const parameters = request.parameters.map((p) => Float32Array.from(p));
    const moments = request.state.moments.map((m) => Float32Array.from(m));
    const losses = new Float32Array(steps);
    const batch = new Int32Array(request.batchSize);
    for (let s = 0; s < steps; s++) {
      if (s % 16 === 0) signal?.throwIfAborted();
      batch.set(request.batches.subarray(s * request.batchSize, (s + 1) * request.batchSize));
      const { loss, gradients } = lossAndGradients(request.architecture, request.loss, parameters, request.samples, batch);
      losses[s] = loss;
      const rate = request.optimizer.learningRate * (request.schedule?.[s] ?? 1);
      applyOptimizer(request.optimizer, rate, request.state.step + s + 1, parameters, gradients, moments);
    }
    return { parameters, state: { moments, step: request.state.step + steps }, losses };
  }

  async close(): Promise<void> {}
}

/** Forward pass: count × C logits. */
export function headLogits(architecture: HeadArchitecture, parameters: HeadParameters, features: Float32Array, count: number): Float32Array {
  const { inputDim: d, hiddenDim: h, classCount: c } = architecture;
  if (h === 0) return affine(features, count, d, parameters[0]!, parameters[1]!, c);
  const hidden = affine(features, count, d, parameters[0]!, parameters[1]!, h);
  for (let i = 0; i < hidden.length; i++) if (hidden[i]! < 0) hidden[i] = 0;
  return affine(hidden, count, h, parameters[2]!, parameters[3]!, c);
}

/** Mean batch loss and its gradient for every parameter (exported for gradient tests). */
export function lossAndGradients(
  architecture: HeadArchitecture,
  lossSettings: LossSettings,
  parameters: HeadParameters,
  samples: TrainingSamples,
  batch: Int32Array,
): { loss: number; gradients: Float32Array[] } {
  const { inputDim: d, hiddenDim: h, classCount: c } = architecture;
  const b = batch.length;
  const x = new Float32Array(b * d);
  for (let i = 0; i < b; i++) x.set(samples.features.subarray(batch[i]! * d, (batch[i]! + 1) * d), i * d);

  const hidden = h === 0 ? null : affine(x, b, d, parameters[0]!, parameters[1]!, h);
  if (hidden) for (let i = 0; i < hidden.length; i++) if (hidden[i]! < 0) hidden[i] = 0;
  const logits = hidden ? affine(hidden, b, h, parameters[2]!, parameters[3]!, c) : affine(x, b, d, parameters[0]!, parameters[1]!, c);

  // dLoss/dlogits, row by row.
  const g = new Float32Array(b * c);
  const kd = lossSettings.distillation;
  let loss = 0;
  for (let i = 0; i < b; i++) {
    const n = batch[i]!;
    const w = (samples.weights?.[n] ?? 1) / b;
    const row = logits.subarray(i * c, (i + 1) * c);
    const p = softmax(row, 1);
    const y = samples.labels[n]!;
    let sampleLoss = -Math.log(Math.max(p[y]!, 1e-30));
    for (let k = 0; k < c; k++) g[i * c + k] = w * (p[k]! - (k === y ? 1 : 0));
    if (kd) {
      const t = kd.temperature;
      const student = softmax(row.subarray(0, kd.classCount), t);
      const teacher = softmax(samples.teacherLogits!.subarray(n * kd.classCount, (n + 1) * kd.classCount), t);
      let ce = 0;
      for (let k = 0; k < kd.classCount; k++) {
        ce -= teacher[k]! * Math.log(Math.max(student[k]!, 1e-30));
        // d/dz of T²·CE(q, softmax(z/T)) = T·(softmax(z/T) − q)
        g[i * c + k]! += w * kd.weight * t * (student[k]! - teacher[k]!);
      }
      sampleLoss += kd.weight * t * t * ce;
    }
    loss += w * sampleLoss;
  }

  if (!hidden) return { loss, gradients: [outerSum(g, x, b, c, d), columnSums(g, b, c)] };
  const gW2 = outerSum(g, hidden, b, c, h);
  const gb2 = columnSums(g, b, c);
  const gh = new Float32Array(b * h); // g·W2, masked by the ReLU
  const w2 = parameters[2]!;
  for (let i = 0; i < b; i++) {
    for (let k = 0; k < c; k++) {
      const gik = g[i * c + k]!;
      if (gik === 0) continue;
      const wRow = k * h;
      for (let j = 0; j < h; j++) gh[i * h + j]! += gik * w2[wRow + j]!;
    }
    for (let j = 0; j < h; j++) if (hidden[i * h + j]! <= 0) gh[i * h + j] = 0;
  }
  return { loss, gradients: [outerSum(gh, x, b, h, d), columnSums(gh, b, h), gW2, gb2] };
}

function applyOptimizer(
  settings: OptimizerSettings,
  rate: number,
  step: number,
  parameters: Float32Array[],
  gradients: Float32Array[],
  moments: Float32Array[],
): void {
  const decay = settings.weightDecay ?? 0;
  const count = parameters.length;
  for (let p = 0; p < count; p++) {
    const theta = parameters[p]!;
    const grad = gradients[p]!;
    if (settings.kind === 'sgd') {
      const mu = settings.momentum ?? 0.9;
      const v = moments[p]!;
      for (let i = 0; i < theta.length; i++) {
        v[i] = mu * v[i]! + grad[i]! + decay * theta[i]!;
        theta[i]! -= rate * v[i]!;
      }
      continue;
    }
    const beta1 = settings.beta1 ?? 0.9;
    const beta2 = settings.beta2 ?? 0.999;
    const epsilon = settings.epsilon ?? 1e-8;
    const decoupled = settings.kind === 'adamw';
    const m = moments[p]!;
    const v = moments[count + p]!;
    const c1 = 1 - beta1 ** step;
    const c2 = 1 - beta2 ** step;
    for (let i = 0; i < theta.length; i++) {
      const gi = grad[i]! + (decoupled ? 0 : decay * theta[i]!);
      m[i] = beta1 * m[i]! + (1 - beta1) * gi;
      v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
      const update = m[i]! / c1 / (Math.sqrt(v[i]! / c2) + epsilon);
      theta[i]! -= rate * (update + (decoupled ? decay * theta[i]! : 0));
    }
  }
}

/** rows × out = input (rows × inDim) · Wᵀ (W: out × inDim) + bias. */
function affine(input: Float32Array, rows: number, inDim: number, weight: Float32Array, bias: Float32Array, out: number): Float32Array {
  const result = new Float32Array(rows * out);
  for (let i = 0; i < rows; i++) {
    const xOffset = i * inDim;
    for (let k = 0; k < out; k++) {
      const wOffset = k * inDim;
      let sum = bias[k]!;
      for (let j = 0; j < inDim; j++) sum += input[xOffset + j]! * weight[wOffset + j]!;
      result[i * out + k] = sum;
    }
  }
  return result;
}

/** out × inDim = gᵀ (rows × out) · input (rows × inDim). */
function outerSum(g: Float32Array, input: Float32Array, rows: number, out: number, inDim: number): Float32Array {
  const result = new Float32Array(out * inDim);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < out; k++) {
      const gik = g[i * out + k]!;
      if (gik === 0) continue;
      const rOffset = k * inDim;
      const xOffset = i * inDim;
      for (let j = 0; j < inDim; j++) result[rOffset + j]! += gik * input[xOffset + j]!;
    }
  }
  return result;
}

function columnSums(g: Float32Array, rows: number, cols: number): Float32Array {
  const result = new Float32Array(cols);
  for (let i = 0; i < rows; i++) for (let k = 0; k < cols; k++) result[k]! += g[i * cols + k]!;
  return result;
}

function softmax(values: Float32Array, temperature: number): Float64Array {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  const out = new Float64Array(values.length);
  let sum = 0;
  for (let k = 0; k < values.length; k++) {
    out[k] = Math.exp((values[k]! - max) / temperature);
    sum += out[k]!;
  }
  for (let k = 0; k < out.length; k++) out[k]! /= sum;
  return out;
}
