// The replay learner's state and its byte layout. Everything a later update continues from is
// here — head parameters, optimizer moments and step, class statistics, the exemplars, the
// hyper-parameters and the update counter that seeds shuffles — so a restored version predicts
// bit-identically and continues exactly as the original would have.
import {
  bytesToFloat32, bytesToFloat64, decodeContainer, encodeContainer, float32ToBytes, float64ToBytes, headerField, isFiniteNumber, isString,
  isStringArray, StateFormatError,
} from '../codec.js';
import type { LearnerState } from '../learner.js';
import { parameterShapes, type HeadArchitecture, type HeadParameters, type OptimizerKind, type OptimizerState } from '../../training/head-trainer.js';
import type { ExemplarBuffer } from './buffer.js';
import type { ClassStatistics } from './class-statistics.js';
import { resolveReplayHyperParameters, type ReplayHyperParameters } from './hyper-parameters.js';

export const REPLAY_CORE_ID = 'replay-head';

export interface ReplayState extends LearnerState {
  readonly learnerId: typeof REPLAY_CORE_ID;
  readonly dim: number;
  readonly hyperParameters: ReplayHyperParameters;
  /** Versions trained so far (seeds this version's shuffles). */
  readonly updates: number;
  readonly architecture: HeadArchitecture;
  readonly parameters: HeadParameters;
  readonly optimizerKind: OptimizerKind;
  readonly optimizer: OptimizerState;
  readonly statistics: ClassStatistics;
  readonly buffer: ExemplarBuffer;
}

const isCountArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => Number.isInteger(n) && n >= 0);
const isKeyArray = (v: unknown): v is (string | null)[] => Array.isArray(v) && v.every((k) => k === null || typeof k === 'string');

export function serializeReplayState(state: ReplayState): Uint8Array {
  const header = {
    learnerId: state.learnerId,
    format: 1,
    classNames: state.classNames,
    dim: state.dim,
    hyperParameters: state.hyperParameters,
    updates: state.updates,
    hiddenDim: state.architecture.hiddenDim,
    optimizerKind: state.optimizerKind,
    optimizerStep: state.optimizer.step,
    counts: state.statistics.counts,
    bufferLabels: state.buffer.labels,
    bufferKeys: state.buffer.keys,
  };
  return encodeContainer(header, [
    ...state.parameters.map(float32ToBytes),
    ...state.optimizer.moments.map(float32ToBytes),
    float64ToBytes(state.statistics.sums),
    float32ToBytes(state.buffer.features),
  ]);
}

export function deserializeReplayState(bytes: Uint8Array): ReplayState {
  const { header, sections } = decodeContainer(bytes);
  if (headerField(header, 'learnerId', isString) !== REPLAY_CORE_ID) throw new StateFormatError('not a replay learner state');
  if (headerField(header, 'format', isFiniteNumber) !== 1) throw new StateFormatError('unknown replay learner state format');
  const classNames = Object.freeze(headerField(header, 'classNames', isStringArray));
  const dim = headerField(header, 'dim', isFiniteNumber);
  const stored = headerField(header, 'hyperParameters', (v): v is Record<string, number | string | boolean> => typeof v === 'object' && v !== null);
  let hyperParameters: ReplayHyperParameters;
  try {
    hyperParameters = resolveReplayHyperParameters(REPLAY_CORE_ID, null, stored);
  } catch (error) {
    throw new StateFormatError(`replay learner state has bad hyper-parameters: ${(error as Error).message}`);
  }
  const architecture: HeadArchitecture = { inputDim: dim, hiddenDim: headerField(header, 'hiddenDim', isFiniteNumber), classCount: classNames.length };
  const optimizerKind = headerField(header, 'optimizerKind', (v): v is OptimizerKind => v === 'sgd' || v === 'adam' || v === 'adamw');
  const counts = headerField(header, 'counts', isCountArray);
  const bufferLabels = headerField(header, 'bufferLabels', isStringArray);
  const bufferKeys = headerField(header, 'bufferKeys', isKeyArray);
  const shapes = parameterShapes(architecture);
  const sizes = shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
  const copies = optimizerKind === 'sgd' ? 1 : 2;
  if (sections.length !== sizes.length * (1 + copies) + 2 || counts.length !== classNames.length || bufferKeys.length !== bufferLabels.length) {
    throw new StateFormatError('replay learner state has the wrong sections');
  }
  const parameters = sizes.map((size, i) => bytesToFloat32(sections[i]!, size));
  const moments = Array.from({ length: copies * sizes.length }, (_, i) => bytesToFloat32(sections[sizes.length + i]!, sizes[i % sizes.length]!));
  const sums = bytesToFloat64(sections[sections.length - 2]!, classNames.length * dim);
  const bufferFeatures = bytesToFloat32(sections[sections.length - 1]!, bufferLabels.length * dim);
  return Object.freeze({
    learnerId: REPLAY_CORE_ID,
    classNames,
    dim,
    hyperParameters,
    updates: headerField(header, 'updates', isFiniteNumber),
    architecture,
    parameters,
    optimizerKind,
    optimizer: { moments, step: headerField(header, 'optimizerStep', isFiniteNumber) },
    statistics: { classNames, dim, counts, sums },
    buffer: { dim, count: bufferLabels.length, features: bufferFeatures, labels: bufferLabels, keys: bufferKeys },
  });
}
