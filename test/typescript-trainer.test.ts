// The reference trainer's gradients against central finite differences, and its optimizers
// against a closed-form expectation, for linear and hidden-layer heads with distillation.
import { describe, expect, it } from 'vitest';
import { initialOptimizerState, parameterShapes, type HeadArchitecture, type LossSettings, type TrainingSamples } from '../main/engine/training/head-trainer.js';
import { headLogits, lossAndGradients, TypeScriptTrainer } from '../main/engine/training/typescript-trainer.js';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

function problem(architecture: HeadArchitecture, count: number, seed: number) {
  const rand = random(seed);
  const parameters = parameterShapes(architecture).map((shape) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 0.5));
  const samples: TrainingSamples = {
    features: Float32Array.from({ length: count * architecture.inputDim }, () => rand()),
    labels: Int32Array.from({ length: count }, (_, i) => i % architecture.classCount),
    count,
    weights: Float32Array.from({ length: count }, (_, i) => 0.5 + (i % 3) * 0.5),
    teacherLogits: Float32Array.from({ length: count * 2 }, () => rand() * 3),
  };
  return { parameters, samples };
}

describe('TypeScriptTrainer', () => {
  const cases: [string, HeadArchitecture, LossSettings][] = [
    ['linear, cross-entropy', { inputDim: 5, hiddenDim: 0, classCount: 4 }, {}],
    ['linear, with distillation', { inputDim: 5, hiddenDim: 0, classCount: 4 }, { distillation: { classCount: 2, temperature: 2, weight: 0.7 } }],
    ['hidden layer, with distillation', { inputDim: 5, hiddenDim: 6, classCount: 4 }, { distillation: { classCount: 2, temperature: 3, weight: 1.3 } }],
  ];
  for (const [name, architecture, loss] of cases) {
    it(`gradients match finite differences: ${name}`, () => {
      const { parameters, samples } = problem(architecture, 7, 11);
      const batch = Int32Array.from([0, 3, 5, 6, 3]);
      const { gradients } = lossAndGradients(architecture, loss, parameters, samples, batch);
      const h = 1e-3;
      let worst = 0;
      parameters.forEach((p, t) => {
        for (let i = 0; i < p.length; i++) {
          const saved = p[i]!;
          p[i] = saved + h;
          const up = lossAndGradients(architecture, loss, parameters, samples, batch).loss;
          p[i] = saved - h;
          const down = lossAndGradients(architecture, loss, parameters, samples, batch).loss;
          p[i] = saved;
          worst = Math.max(worst, Math.abs((up - down) / (2 * h) - gradients[t]![i]!));
        }
      });
      expect(worst).toBeLessThan(2e-3);
    });
  }

  it('one sgd step moves every parameter by −η·g, and adam by −η·sign(g) on its first step', async () => {
    const architecture: HeadArchitecture = { inputDim: 3, hiddenDim: 0, classCount: 3 };
    const { parameters, samples } = problem(architecture, 4, 5);
    const batches = Int32Array.from([0, 1, 2, 3]);
    const { gradients } = lossAndGradients(architecture, {}, parameters, samples, batches);
    const trainer = new TypeScriptTrainer();
    const base = { architecture, loss: {}, parameters, samples, batches, batchSize: 4 };
    const sgd = await trainer.train({ ...base, optimizer: { kind: 'sgd', learningRate: 0.1 }, state: initialOptimizerState('sgd', parameters) });
    const adam = await trainer.train({ ...base, optimizer: { kind: 'adam', learningRate: 0.01 }, state: initialOptimizerState('adam', parameters) });
    parameters.forEach((p, t) => {
      for (let i = 0; i < p.length; i++) {
        expect(sgd.parameters[t]![i]).toBeCloseTo(p[i]! - 0.1 * gradients[t]![i]!, 6);
        expect(adam.parameters[t]![i]).toBeCloseTo(p[i]! - 0.01 * Math.sign(gradients[t]![i]!), 4);
      }
    });
    expect(adam.state.step).toBe(1);
  });

  it('training on a separable problem drives the loss down and classifies it', async () => {
    const architecture: HeadArchitecture = { inputDim: 4, hiddenDim: 8, classCount: 3 };
    const rand = random(3);
    const count = 60;
    const labels = Int32Array.from({ length: count }, (_, i) => i % 3);
    const features = Float32Array.from({ length: count * 4 }, (_, j) => (Math.floor(j / 4) % 3 === j % 4 ? 2 : 0) + rand() * 0.3);
    const parameters = parameterShapes(architecture).map((shape) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 0.3));
    const steps = 100;
    const batches = Int32Array.from({ length: steps * 10 }, (_, i) => (i * 7) % count);
    const result = await new TypeScriptTrainer().train({
      architecture, loss: {}, parameters, samples: { features, labels, count }, batches, batchSize: 10,
      optimizer: { kind: 'adamw', learningRate: 0.05, weightDecay: 0.01 }, state: initialOptimizerState('adamw', parameters),
    });
    expect(result.losses[steps - 1]!).toBeLessThan(result.losses[0]! * 0.1);
    const logits = headLogits(architecture, result.parameters, features, count);
    let correct = 0;
    for (let i = 0; i < count; i++) {
      const row = Array.from(logits.subarray(i * 3, i * 3 + 3));
      if (row.indexOf(Math.max(...row)) === labels[i]) correct++;
    }
    expect(correct).toBe(count);
  });
});
