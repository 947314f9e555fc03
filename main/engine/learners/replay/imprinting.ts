// Weight imprinting: a new class's output row starts as its normalized mean representation
// (features, or hidden activations) scaled to the old rows' mean length, and its bias as the old
// biases' mean, so the class is predicted sensibly before any training step (NCM-like) and
// training starts from a row on the same scale as the rows it competes with.
import type { HeadArchitecture, HeadParameters } from '../../training/head-trainer.js';
import { headLogits } from '../../training/typescript-trainer.js';
import type { LabeledFeatures } from '../learner.js';
import { meanRowNorm, outputIndex, outputInputDim } from './head.js';

/**
 * Sets the rows of `newClasses` (indices into classNames) in place from the samples of those
 * classes in `samples`. `oldClasses` set the scale; without any, rows get length `firstNorm`.
 */
export function imprintRows(
  parameters: Float32Array[],
  architecture: HeadArchitecture,
  classNames: readonly string[],
  newClasses: readonly number[],
  oldClasses: readonly number[],
  samples: LabeledFeatures,
  firstNorm: number,
): void {
  if (newClasses.length === 0) return;
  const o = outputIndex(architecture);
  const width = outputInputDim(architecture);
  const representation = architecture.hiddenDim === 0 ? samples.features : hiddenActivations(architecture, parameters, samples);
  const norm = oldClasses.length > 0 ? meanRowNorm(parameters, architecture, oldClasses) : firstNorm;
  const bias = parameters[o + 1]!;
  const oldBias = oldClasses.length > 0 ? oldClasses.reduce((sum, c) => sum + bias[c]!, 0) / oldClasses.length : 0;
  const index = new Map(newClasses.map((c) => [classNames[c]!, c]));
  const sums = new Float64Array(newClasses.length * width);
  const counts = new Map<number, number>();
  const slot = new Map(newClasses.map((c, i) => [c, i]));
  samples.labels.forEach((label, s) => {
    const c = index.get(label);
    if (c === undefined) return;
    const i = slot.get(c)!;
    counts.set(c, (counts.get(c) ?? 0) + 1);
    for (let j = 0; j < width; j++) sums[i * width + j]! += representation[s * width + j]!;
  });
  const w = parameters[o]!;
  newClasses.forEach((c, i) => {
    let squared = 0;
    for (let j = 0; j < width; j++) squared += sums[i * width + j]! ** 2;
    const scale = squared > 0 ? norm / Math.sqrt(squared) : 0;
    for (let j = 0; j < width; j++) w[c * width + j] = sums[i * width + j]! * scale;
    bias[c] = counts.has(c) ? oldBias : 0;
  });
}

function hiddenActivations(architecture: HeadArchitecture, parameters: HeadParameters, samples: LabeledFeatures): Float32Array {
  // A linear "head" of the hidden layer alone gives its pre-activations; ReLU them.
  const hidden = headLogits({ inputDim: architecture.inputDim, hiddenDim: 0, classCount: architecture.hiddenDim }, [parameters[0]!, parameters[1]!], samples.features, samples.count);
  for (let i = 0; i < hidden.length; i++) if (hidden[i]! < 0) hidden[i] = 0;
  return hidden;
}
