// Byte layout of a finetune state (codec.ts container): a JSON header with the top's node list,
// tensor names and shapes, the buffer's keys and the hyper-parameters; sections: the ridge head
// (analytic's own encoding), the top's parameters and constants (float32), then the buffered
// activations back to back (each encodeActivation's bytes, lengths in the header).
import { z } from 'zod';
import { analyticRidge, type AnalyticState } from '../analytic.js';
import { bytesToFloat32, decodeContainer, encodeContainer, float32ToBytes, StateFormatError } from '../codec.js';
import type { AttributeValue } from '../../onnx/graph-builder.js';
import type { FinetuneHyperParameters, FinetuneState } from './state.js';
import type { LatentEntry } from './latent-buffer.js';
import type { TopNetwork, TopTensor } from './top-network.js';

const FORMAT = 1;

const AttributeSchema: z.ZodType<AttributeValue> = z.union([
  z.object({ type: z.literal('int'), value: z.number() }),
  z.object({ type: z.literal('ints'), value: z.array(z.number()) }),
  z.object({ type: z.literal('float'), value: z.number() }),
  z.object({ type: z.literal('floats'), value: z.array(z.number()) }),
  z.object({ type: z.literal('string'), value: z.string() }),
]);
const TensorInfoSchema = z.object({ name: z.string(), dims: z.array(z.number().int().nonnegative()) });

const HeaderSchema = z.object({
  learnerId: z.literal('finetune'),
  format: z.literal(FORMAT),
  classNames: z.array(z.string()),
  hyperParameters: z.record(z.string(), z.number()),
  updates: z.number().int().nonnegative(),
  training: z.object({
    rows: z.number().int().nonnegative(),
    steps: z.number().int().nonnegative(),
    firstEpochLoss: z.number().nullable(),
    lastEpochLoss: z.number().nullable(),
  }),
  top: z.object({
    nodes: z.array(z.object({ opType: z.string(), inputs: z.array(z.string()), outputs: z.array(z.string()), attributes: z.record(z.string(), AttributeSchema) })),
    input: z.string(),
    output: z.string(),
    cutShape: z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
    featureDim: z.number().int().positive(),
    parameters: z.array(TensorInfoSchema),
    constants: z.array(TensorInfoSchema),
  }),
  buffer: z.array(z.object({ key: z.string(), className: z.string(), bytes: z.number().int().positive() })),
});

export function encodeFinetuneState(state: FinetuneState): Uint8Array {
  const info = (t: TopTensor) => ({ name: t.name, dims: [...t.dims] });
  const header: z.infer<typeof HeaderSchema> = {
    learnerId: 'finetune',
    format: FORMAT,
    classNames: [...state.classNames],
    hyperParameters: { ...state.hyperParameters },
    updates: state.updates,
    training: { ...state.training },
    top: {
      nodes: state.top.nodes.map((n) => ({ opType: n.opType, inputs: [...n.inputs], outputs: [...n.outputs], attributes: { ...n.attributes } })),
      input: state.top.input,
      output: state.top.output,
      cutShape: [...state.top.cutShape],
      featureDim: state.top.featureDim,
      parameters: state.top.parameters.map(info),
      constants: state.top.constants.map(info),
    },
    buffer: state.buffer.map((entry) => ({ key: entry.key, className: entry.className, bytes: entry.activation.byteLength })),
  };
  const activations = new Uint8Array(state.buffer.reduce((sum, entry) => sum + entry.activation.byteLength, 0));
  let offset = 0;
  for (const entry of state.buffer) {
    activations.set(entry.activation, offset);
    offset += entry.activation.byteLength;
  }
  return encodeContainer(header, [
    analyticRidge.serialize(state.head),
    ...state.top.parameters.map((t) => float32ToBytes(t.data)),
    ...state.top.constants.map((t) => float32ToBytes(t.data)),
    activations,
  ]);
}

export function decodeFinetuneState(bytes: Uint8Array): FinetuneState {
  const { header: raw, sections } = decodeContainer(bytes);
  const parsed = HeaderSchema.safeParse(raw);
  if (!parsed.success) throw new StateFormatError(`finetune state header: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const header = parsed.data;
  const { top: t } = header;
  if (sections.length !== 2 + t.parameters.length + t.constants.length) throw new StateFormatError('finetune state has the wrong number of sections');
  const head = analyticRidge.deserialize(sections[0]!) as AnalyticState;
  const tensor = (info: { name: string; dims: number[] }, section: Uint8Array): TopTensor => ({
    name: info.name,
    dims: info.dims,
    data: bytesToFloat32(section, info.dims.reduce((a, b) => a * b, 1)),
  });
  const top: TopNetwork = {
    nodes: t.nodes,
    input: t.input,
    output: t.output,
    cutShape: t.cutShape,
    featureDim: t.featureDim,
    parameters: t.parameters.map((info, i) => tensor(info, sections[1 + i]!)),
    constants: t.constants.map((info, i) => tensor(info, sections[1 + t.parameters.length + i]!)),
  };
  const activations = sections[sections.length - 1]!;
  const buffer: LatentEntry[] = [];
  let offset = 0;
  for (const entry of header.buffer) {
    if (offset + entry.bytes > activations.length) throw new StateFormatError('finetune state: truncated buffer');
    buffer.push({ key: entry.key, className: entry.className, activation: activations.slice(offset, offset + entry.bytes) });
    offset += entry.bytes;
  }
  if (offset !== activations.length) throw new StateFormatError('finetune state: trailing buffer bytes');
  if (head.classNames.length !== header.classNames.length) throw new StateFormatError('finetune state: head and classes disagree');
  return Object.freeze({
    learnerId: 'finetune' as const,
    classNames: Object.freeze(header.classNames),
    top,
    head,
    buffer: Object.freeze(buffer),
    hyperParameters: header.hyperParameters as FinetuneHyperParameters,
    updates: header.updates,
    training: header.training,
  });
}
