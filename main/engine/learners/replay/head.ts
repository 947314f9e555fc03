// The head's parameters across versions: output rows follow the class list (kept classes keep
// their rows, new ones get fresh rows), optimizer moments follow their parameters, and the
// hidden layer (when there is one) is shared by every class and carried as is.
import { initialOptimizerState, parameterShapes, type HeadArchitecture, type HeadParameters, type OptimizerKind, type OptimizerState } from '../../training/head-trainer.js';
import { seededRandom } from '../seeded-random.js';

/** Index of the output weight tensor; the output bias follows it. */
export function outputIndex(architecture: HeadArchitecture): number {
  return architecture.hiddenDim === 0 ? 0 : 2;
}

/** Width of the output layer's input: the features, or the hidden layer. */
export function outputInputDim(architecture: HeadArchitecture): number {
  return architecture.hiddenDim === 0 ? architecture.inputDim : architecture.hiddenDim;
}

/** Fresh parameters: zero output rows; a hidden layer drawn uniformly in ±√(6/D) (He), seeded. */
export function initialParameters(architecture: HeadArchitecture, seed: number): Float32Array[] {
  const parameters = parameterShapes(architecture).map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
  if (architecture.hiddenDim > 0) {
    const random = seededRandom(seed);
    const bound = Math.sqrt(6 / architecture.inputDim);
    const w1 = parameters[0]!;
    for (let i = 0; i < w1.length; i++) w1[i] = (2 * random() - 1) * bound;
  }
  return parameters;
}

/** Copies the class-dependent rows of `tensors` (one parameter set, e.g. parameters or one
 * moment copy) from the `from` class order to `to`; classes new in `to` get zero rows. */
function remapClassRows(tensors: readonly Float32Array[], architecture: HeadArchitecture, from: readonly string[], to: readonly string[]): Float32Array[] {
  const o = outputIndex(architecture);
  const width = outputInputDim(architecture);
  const source = new Map(from.map((name, i) => [name, i]));
  return tensors.map((tensor, t) => {
    if (t < o) return Float32Array.from(tensor);
    const rowWidth = t === o ? width : 1;
    const out = new Float32Array(to.length * rowWidth);
    to.forEach((name, c) => {
      const p = source.get(name);
      if (p !== undefined) out.set(tensor.subarray(p * rowWidth, (p + 1) * rowWidth), c * rowWidth);
    });
    return out;
  });
}

export function remapParameters(parameters: HeadParameters, architecture: HeadArchitecture, from: readonly string[], to: readonly string[]): Float32Array[] {
  return remapClassRows(parameters, architecture, from, to);
}

/** The optimizer state in the new class order; a change of optimizer kind starts from zero. */
export function remapOptimizerState(
  state: OptimizerState | null,
  previousKind: OptimizerKind | null,
  kind: OptimizerKind,
  parameters: HeadParameters,
  architecture: HeadArchitecture,
  from: readonly string[],
  to: readonly string[],
): OptimizerState {
  if (!state || previousKind !== kind) return initialOptimizerState(kind, parameters);
  const perCopy = parameters.length;
  const moments: Float32Array[] = [];
  for (let copy = 0; copy * perCopy < state.moments.length; copy++) {
    moments.push(...remapClassRows(state.moments.slice(copy * perCopy, (copy + 1) * perCopy), architecture, from, to));
  }
  return { moments, step: state.step };
}

/** Mean Euclidean length of the given output rows. */
export function meanRowNorm(parameters: HeadParameters, architecture: HeadArchitecture, classes: readonly number[]): number {
  const w = parameters[outputIndex(architecture)]!;
  const width = outputInputDim(architecture);
  if (classes.length === 0) return 0;
  let total = 0;
  for (const c of classes) {
    let squared = 0;
    for (let j = 0; j < width; j++) squared += w[c * width + j]! ** 2;
    total += Math.sqrt(squared);
  }
  return total / classes.length;
}
