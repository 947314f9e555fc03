// The lower-bound baseline of the accuracy benchmark (bench-only, not a product learner): a
// softmax-regression head over L2-normalized features, fine-tuned with mini-batch SGD with
// momentum on each step's NEW data only, starting from the previous step's weights. Rows of
// old classes are kept and stay in the softmax, so they only ever receive the negative
// gradient of samples of other classes: the classic catastrophic-forgetting baseline.
import { seededRandom } from '../main/engine/learners/seeded-random.js';
import type { LabeledFeatures } from '../main/engine/learners/index.js';

export interface SgdOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  momentum: number;
  seed: number;
}

/** Chosen so that the same head trained jointly on all classes comes close to the analytic
 * learner (the benchmark reports that check), i.e. the head itself is not the weak point. */
export const NAIVE_DEFAULTS: Readonly<SgdOptions> = { epochs: 10, batchSize: 32, learningRate: 0.5, momentum: 0.9, seed: 1 };


function normalizedRows(data: LabeledFeatures): Float64Array {
  const { dim, count } = data;
  const out = new Float64Array(count * dim);
  for (let i = 0; i < count; i++) {
    let norm = 0;
    for (let k = 0; k < dim; k++) norm += data.features[i * dim + k]! ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let k = 0; k < dim; k++) out[i * dim + k] = data.features[i * dim + k]! * scale;
  }
  return out;
}

export class SoftmaxHead {
  private names: string[] = [];
  /** C×D row-major, then C biases. */
  private weights = new Float64Array(0);
  private bias = new Float64Array(0);

  constructor(readonly dim: number) {}

  get classNames(): readonly string[] {
    return this.names;
  }

  /** Appends zero-initialized rows for classes not seen yet. */
  addClasses(classNames: readonly string[]): void {
    const fresh = classNames.filter((name) => !this.names.includes(name));
    if (fresh.length === 0) return;
    const C = this.names.length + fresh.length;
    const weights = new Float64Array(C * this.dim);
    weights.set(this.weights);
    const bias = new Float64Array(C);
    bias.set(this.bias);
    this.names = [...this.names, ...fresh];
    this.weights = weights;
    this.bias = bias;
  }

  /** SGD on `data` only (cross-entropy over every class of the head), fresh momentum buffers. */
  train(data: LabeledFeatures, options: SgdOptions = NAIVE_DEFAULTS): void {
    if (data.dim !== this.dim) throw new Error(`expected ${this.dim}-d features, got ${data.dim}`);
    const D = this.dim;
    const C = this.names.length;
    const index = new Map(this.names.map((name, i) => [name, i]));
    const targets = data.labels.map((label) => {
      const c = index.get(label);
      if (c === undefined) throw new Error(`class ${label} is not in the head; addClasses first`);
      return c;
    });
    const x = normalizedRows(data);
    const vW = new Float64Array(C * D);
    const vB = new Float64Array(C);
    const gW = new Float64Array(C * D);
    const gB = new Float64Array(C);
    const p = new Float64Array(C);
    const order = Array.from({ length: data.count }, (_, i) => i);
    const rand = seededRandom(options.seed);
    const { learningRate: lr, momentum: mu } = options;
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (let start = 0; start < order.length; start += options.batchSize) {
        const batch = order.slice(start, start + options.batchSize);
        gW.fill(0);
        gB.fill(0);
        for (const n of batch) {
          const xo = n * D;
          let max = -Infinity;
          for (let c = 0; c < C; c++) {
            let z = this.bias[c]!;
            const wo = c * D;
            for (let k = 0; k < D; k++) z += this.weights[wo + k]! * x[xo + k]!;
            p[c] = z;
            if (z > max) max = z;
          }
          let total = 0;
          for (let c = 0; c < C; c++) total += p[c] = Math.exp(p[c]! - max);
          for (let c = 0; c < C; c++) {
            const g = (p[c]! / total - (c === targets[n] ? 1 : 0)) / batch.length;
            gB[c] = gB[c]! + g;
            const wo = c * D;
            for (let k = 0; k < D; k++) gW[wo + k] = gW[wo + k]! + g * x[xo + k]!;
          }
        }
        for (let i = 0; i < gW.length; i++) {
          vW[i] = mu * vW[i]! + gW[i]!;
          this.weights[i] = this.weights[i]! - lr * vW[i]!;
        }
        for (let c = 0; c < C; c++) {
          vB[c] = mu * vB[c]! + gB[c]!;
          this.bias[c] = this.bias[c]! - lr * vB[c]!;
        }
      }
    }
  }

  /** count×C logits in classNames order. */
  predict(features: Float32Array, count: number): Float32Array {
    const D = this.dim;
    const C = this.names.length;
    const x = normalizedRows({ features, labels: [], count, dim: D });
    const out = new Float32Array(count * C);
    for (let n = 0; n < count; n++) {
      for (let c = 0; c < C; c++) {
        let z = this.bias[c]!;
        for (let k = 0; k < D; k++) z += this.weights[c * D + k]! * x[n * D + k]!;
        out[n * C + c] = z;
      }
    }
    return out;
  }
}
