// The head's forward pass and its loss as graph nodes (the math of head-trainer.ts): logits from
// the parameters, weighted cross-entropy, and optionally distillation of the first K logits.
// Only forward nodes: gradients come from the autodiff pass, updates from optimizers.ts.
import { attr, type GraphBuilder } from '../../onnx/graph-builder.js';
import type { HeadArchitecture } from '../head-trainer.js';

/** Value names of one batch. */
export interface BatchValues {
  /** B × D features. */
  readonly features: string;
  /** B labels (int32). */
  readonly labels: string;
  /** B per-sample weights. */
  readonly weights: string;
  /** B × K teacher logits, with distillation only. */
  readonly teacherLogits?: string;
}

/** Scalar hyper-parameters of the distillation term, as graph values. */
export interface DistillationValues {
  readonly classCount: number;
  readonly temperature: string;
  readonly weight: string;
}

export function addHeadLogits(b: GraphBuilder, architecture: HeadArchitecture, parameters: readonly string[], features: string): string {
  const affine = (input: string, weight: string, bias: string) => b.addNode('Gemm', [input, weight, bias], { transB: attr.int(1) });
  const [w1, b1, w2, b2] = parameters;
  if (architecture.hiddenDim === 0) return affine(features, w1!, b1!);
  const hidden = b.addNode('Relu', [affine(features, w1!, b1!)], {}, { name: 'hidden' });
  return affine(hidden, w2!, b2!);
}

/** −Σ_k q_k · log softmax(z)_k per row: B values. */
function crossEntropyRows(b: GraphBuilder, target: string, logProbabilities: string): string {
  const dot = b.addNode('ReduceSum', [b.addNode('Mul', [target, logProbabilities]), b.int64Vector([1])], { keepdims: attr.int(0) });
  return b.addNode('Neg', [dot]);
}

/** The mean weighted loss of a batch of `batchSize` rows (a scalar value). */
export function addHeadLoss(
  b: GraphBuilder,
  architecture: HeadArchitecture,
  batchSize: number,
  parameters: readonly string[],
  batch: BatchValues,
  distillation?: DistillationValues,
): string {
  const logits = addHeadLogits(b, architecture, parameters, batch.features);
  // ORT's CPU OneHot takes int64 indices with an int64 depth.
  const labels = b.addNode('Cast', [batch.labels], { to: attr.int(7) }, { name: 'labels_int64' });
  const oneHot = b.addNode('OneHot', [labels, b.int64Vector([architecture.classCount]), b.addFloatInitializer('one_hot_values', [2], [0, 1])], { axis: attr.int(-1) });
  let perSample = crossEntropyRows(b, oneHot, b.addNode('LogSoftmax', [logits], { axis: attr.int(-1) }));
  if (distillation) {
    if (!batch.teacherLogits) throw new Error('distillation needs teacher logits');
    const k = distillation.classCount;
    const old = b.addNode('Slice', [logits, b.int64Vector([0]), b.int64Vector([k]), b.int64Vector([1])], {}, { name: 'old_logits' });
    const student = b.addNode('LogSoftmax', [b.addNode('Div', [old, distillation.temperature])], { axis: attr.int(-1) });
    const teacher = b.addNode('Softmax', [b.addNode('Div', [batch.teacherLogits, distillation.temperature])], { axis: attr.int(-1) });
    // α·T²: the T² keeps the soft term's gradient on the scale of the hard one (Hinton et al.).
    const scale = b.addNode('Mul', [distillation.weight, b.addNode('Mul', [distillation.temperature, distillation.temperature])]);
    perSample = b.addNode('Add', [perSample, b.addNode('Mul', [scale, crossEntropyRows(b, teacher, student)])]);
  }
  const weighted = b.addNode('ReduceSum', [b.addNode('Mul', [perSample, batch.weights]), b.int64Vector([0])], { keepdims: attr.int(0) });
  return b.addNode('Mul', [weighted, b.floatScalar(1 / batchSize)], {}, { name: 'loss' });
}
