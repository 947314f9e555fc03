// `keizoku export`: the head version as one self-contained ONNX model — the backbone's feature
// layers, the learner's head written as ONNX nodes (Learner.exportScores), and a calibrated softmax —
// plus labels.json. Any ONNX Runtime (Python, C#, the browser) runs it without Keizoku; its
// scores equal `keizoku predict`'s.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import type { ExportResult } from '../api/contract.js';
import { versionTemperature } from '../evaluation/confidence.js';
import { loadHeadModel } from '../use-cases/head-model.js';
import { floatValueInfo } from '../onnx/float-value-info.js';
import { attr, GraphBuilder } from '../onnx/graph-builder.js';
import { UsageError, type Project } from '../project/project.js';
import { checkExportTargets, EXPORT_PRODUCER, LABELS_FORMAT, placeFile } from './export-target.js';
import { featureSubgraph, valueNames } from './feature-subgraph.js';

const { onnx } = onnxProto;

/** Output names of every exported model: a stable interface for whoever runs the file. */
export const EXPORT_OUTPUTS: { readonly features: string; readonly scores: string; readonly probabilities: string } = {
  features: 'features', scores: 'scores', probabilities: 'probabilities',
};
/** Softmax's axis semantics (one row per image) are opset 13's. */
const MIN_OPSET = 13;

export interface LabelsFile {
  format: 'keizoku-labels/1';
  versionId: number;
  learner: string;
  backbone: string;
  classNames: string[];
  input: { name: string; shape: (number | string)[]; layout: 'NCHW'; resize: string; mean: number[]; std: number[] };
  outputs: { features: string; scores: string; probabilities: string };
  temperature: number;
}

export interface ExportOptions {
  /** replace files at the targets that Keizoku did not write */
  force?: boolean | undefined;
}

export async function runExport(project: Project, outPath: string, options: ExportOptions = {}): Promise<ExportResult> {
  const started = performance.now();
  const target = path.resolve(outPath);
  if (!target.endsWith('.onnx')) throw new UsageError(`--out must name an .onnx file, got ${outPath}`);
  const labelsPath = path.join(path.dirname(target), 'labels.json');
  // Before the (slow) build, so a refusal costs nothing; placeFile re-checks the race at the end.
  checkExportTargets({ model: target, labels: labelsPath }, project, options.force ?? false);
  const { version, learner, state, backbone } = await loadHeadModel(project);
  const classNames = [...learner.classNames(state)];
  const temperature = versionTemperature(version);

  const model = onnx.ModelProto.decode(readFileSync(backbone.onnxPath));
  const opset = (model.opsetImport ?? []).find((entry) => !entry.domain)?.version;
  const opsetVersion = opset === undefined || opset === null ? 0 : Number(opset);
  if (opsetVersion < MIN_OPSET) throw new UsageError(`backbone '${backbone.key}' uses opset ${opsetVersion}; export needs ${MIN_OPSET} or later`);
  const backbonePart = featureSubgraph(model, backbone.featuresName);
  const taken = valueNames(backbonePart.nodes, backbonePart.initializers, [backbone.inputName]);
  const ownNames = [EXPORT_OUTPUTS.scores, EXPORT_OUTPUTS.probabilities];
  if (backbone.featuresName !== EXPORT_OUTPUTS.features) ownNames.push(EXPORT_OUTPUTS.features);
  for (const name of ownNames) {
    if (taken.has(name)) throw new UsageError(`backbone '${backbone.key}' already has a value named '${name}'; export cannot name its output`);
  }

  // The head: a builder that knows the backbone's names so that none of its own collide.
  const head = new GraphBuilder('keizoku-head', { opsetVersion });
  head.reserveNames(...taken, EXPORT_OUTPUTS.scores, EXPORT_OUTPUTS.probabilities, EXPORT_OUTPUTS.features);
  head.addInput(backbone.featuresName, 'float32', ['N', backbone.featureDim]);
  const features = backbone.featuresName === EXPORT_OUTPUTS.features
    ? head.addNode('Flatten', [backbone.featuresName], { axis: attr.int(1) }, { name: 'features_flat' })
    : head.addNode('Flatten', [backbone.featuresName], { axis: attr.int(1) }, { output: EXPORT_OUTPUTS.features });
  const scoresValue = learner.exportScores(state, head, features, backbone.featureDim);
  const scores = head.addNode('Identity', [scoresValue], {}, { output: EXPORT_OUTPUTS.scores });
  const scaled = head.addNode('Mul', [scores, head.floatScalar(1 / temperature)], {}, { name: 'scores_over_temperature' });
  head.addNode('Softmax', [scaled], { axis: attr.int(-1) }, { output: EXPORT_OUTPUTS.probabilities });
  const headGraph = head.toModel().graph!;

  const shape = ['N', 3, backbone.preprocessing.height, backbone.preprocessing.width];
  // `features` is the backbone's own value when it has that name (kept with its declared shape).
  const backboneFeaturesInfo = (model.graph!.output ?? []).find((output) => output.name === EXPORT_OUTPUTS.features);
  const graph = new onnx.GraphProto({
    name: `keizoku-v${version.id}`,
    node: [...backbonePart.nodes, ...(headGraph.node ?? [])],
    initializer: [...backbonePart.initializers, ...(headGraph.initializer ?? [])],
    input: (model.graph!.input ?? []).filter((input) => input.name === backbone.inputName),
    output: [
      backbone.featuresName === EXPORT_OUTPUTS.features && backboneFeaturesInfo
        ? new onnx.ValueInfoProto(backboneFeaturesInfo)
        : floatValueInfo(EXPORT_OUTPUTS.features, ['N', backbone.featureDim]),
      floatValueInfo(EXPORT_OUTPUTS.scores, ['N', classNames.length]),
      floatValueInfo(EXPORT_OUTPUTS.probabilities, ['N', classNames.length]),
    ],
  });
  const labels: LabelsFile = {
    format: LABELS_FORMAT,
    versionId: version.id,
    learner: version.learner,
    backbone: backbone.key,
    classNames,
    input: {
      name: backbone.inputName,
      shape,
      layout: 'NCHW',
      resize: 'shorter side to the input size, then center crop; RGB; value = (pixel − mean) / std on 0..255',
      mean: [...backbone.preprocessing.mean],
      std: [...backbone.preprocessing.std],
    },
    outputs: { features: EXPORT_OUTPUTS.features, scores: EXPORT_OUTPUTS.scores, probabilities: EXPORT_OUTPUTS.probabilities },
    temperature,
  };
  const exported = new onnx.ModelProto({
    irVersion: model.irVersion,
    opsetImport: model.opsetImport,
    producerName: EXPORT_PRODUCER,
    producerVersion: '0.1.0',
    docString: `Keizoku model version ${version.id} (${version.learner} head on ${backbone.name})`,
    graph,
    metadataProps: [
      ['keizoku.class_names', JSON.stringify(classNames)],
      ['keizoku.labels', JSON.stringify(labels)],
    ].map(([key, value]) => new onnx.StringStringEntryProto({ key, value })),
  });

  const bytes = onnx.ModelProto.encode(exported).finish();
  mkdirSync(path.dirname(target), { recursive: true });
  placeFile(target, bytes);
  placeFile(labelsPath, `${JSON.stringify(labels, null, 2)}\n`);
  return {
    command: 'export',
    versionId: version.id,
    out: target,
    labels: labelsPath,
    bytes: bytes.byteLength,
    classNames,
    input: { name: backbone.inputName, shape },
    outputs: labels.outputs,
    temperature,
    timingsMs: { total: performance.now() - started },
  };
}
