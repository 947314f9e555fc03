// The replay head's forward pass on ONNX Runtime (MLAS SGEMM) for scoring many rows at once:
// the teacher logits of every training row (distillation) and predictions. Same math as
// headLogits (the TypeScript reference), which it falls back to where ONNX Runtime cannot run it.
import * as ort from 'onnxruntime-node';
import { attr, GraphBuilder } from '../../onnx/graph-builder.js';
import type { HeadArchitecture, HeadParameters } from '../../training/head-trainer.js';
import { headLogits } from '../../training/typescript-trainer.js';
import { lazyCpuSession } from '../linalg/lazy-session.js';

/** x [n, d] · w0ᵀ + b0 (then ReLU, · w1ᵀ + b1 with a hidden layer); weights are inputs, so one session serves every version. */
function headGraph(hidden: boolean): GraphBuilder {
  const g = new GraphBuilder(hidden ? 'keizoku_replay_logits_hidden' : 'keizoku_replay_logits');
  const x = g.addInput('x', 'float32', ['n', 'd']);
  const layer = (input: string, k: number) =>
    g.addNode('Gemm', [input, g.addInput(`w${k}`, 'float32', ['o', 'i']), g.addInput(`b${k}`, 'float32', ['o'])], { transB: attr.int(1) });
  const first = layer(x, 0);
  const out = hidden ? layer(g.addNode('Relu', [first]), 1) : first;
  g.addOutput(g.addNode('Identity', [out], {}, { output: 'logits' }), 'float32', ['n', 'c']);
  return g;
}

const linearSession = lazyCpuSession(() => headGraph(false));
const hiddenSession = lazyCpuSession(() => headGraph(true));

export async function headLogitsOnnx(architecture: HeadArchitecture, parameters: HeadParameters, features: Float32Array, count: number): Promise<Float32Array> {
  const { inputDim: d, hiddenDim: h, classCount: c } = architecture;
  const session = count === 0 ? null : await (h === 0 ? linearSession() : hiddenSession());
  if (!session) return headLogits(architecture, parameters, features, count);
  const tensor = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
  const feeds: Record<string, ort.Tensor> = {
    x: tensor(features.subarray(0, count * d), [count, d]),
    w0: tensor(parameters[0]!, [h === 0 ? c : h, d]),
    b0: tensor(parameters[1]!, [h === 0 ? c : h]),
  };
  if (h > 0) {
    feeds.w1 = tensor(parameters[2]!, [c, h]);
    feeds.b1 = tensor(parameters[3]!, [c]);
  }
  return (await session.run(feeds)).logits!.data as Float32Array;
}
