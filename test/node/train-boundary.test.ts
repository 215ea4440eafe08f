// Training through the wasm boundary: compile by Keras' names, updates that lower the loss,
// the same seed giving the same weights bit for bit, truncated BPTT over a stream, gradient
// diagnostics, and non-finite steps that stop with a NumericError and keep the last weights.
import { beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../pkg/simd/seqwasm.js';
import { loadSimd, thrown } from '../shared/wasm.js';

beforeAll(loadSimd);

const topology = '{"input": 1, "layers": [{"type": "gru", "units": 8}, {"type": "dense", "units": 1}]}';

/// 64 sequences of 6 steps; the target is the mean of each sequence.
function meanTask(): { x: Float32Array; y: Float32Array } {
  let seed = 1;
  const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const x = Float32Array.from({ length: 64 * 6 }, next);
  const y = Float32Array.from({ length: 64 }, (_, i) => x.subarray(i * 6, i * 6 + 6).reduce((a, b) => a + b, 0) / 6);
  return { x, y };
}

function allWeights(model: Model): number[] {
  return model.parameterNames().flatMap((name) => Array.from(model.parameter(name)));
}

describe('training through the wasm boundary', () => {
  it('lowers the loss of a compiled model and reports each step', () => {
    const model = new Model(topology, 3);
    expect(thrown(() => model.trainBatch(new Float32Array(6), undefined, 1, 6, undefined, new Float32Array(1), undefined))).toMatchObject({ name: 'ConfigError', message: expect.stringContaining('compile it first') });
    model.compile('{"loss": "mse", "optimizer": {"type": "adam", "learning_rate": 0.01}, "metrics": ["mae"]}');
    const { x, y } = meanTask();
    const before = JSON.parse(model.evaluate(x, undefined, 64, 6, undefined, y, undefined, 16));
    let last = { step: 0, loss: 0, gradNorm: 0, learningRate: 0 };
    for (let epoch = 0; epoch < 30; epoch++) {
      for (let b = 0; b < 4; b++) {
        last = JSON.parse(model.trainBatch(x.slice(b * 96, b * 96 + 96), undefined, 16, 6, undefined, y.slice(b * 16, b * 16 + 16), undefined));
      }
    }
    expect(last.step).toBe(120);
    expect(last.learningRate).toBeCloseTo(0.01, 9);
    expect(model.optimizerSteps).toBe(120);
    const after = JSON.parse(model.evaluate(x, undefined, 64, 6, undefined, y, undefined, 16));
    expect(after.loss).toBeLessThan(before.loss / 10);
    expect(after.metrics.mae).toBeGreaterThan(0);
    expect(after.metrics.mae).toBeLessThan(before.metrics.mae);
  });

  it('gives bit-identical weights for the same seeds, and other weights for another seed', () => {
    const run = (seed: number) => {
      const model = new Model('{"input": 1, "layers": [{"type": "lstm", "units": 4, "dropout": 0.2, "layers": 2}, {"type": "dropout", "rate": 0.3}, {"type": "dense", "units": 1}]}', 5);
      model.compile(`{"loss": "mse", "optimizer": "adam", "seed": ${seed}}`);
      const { x, y } = meanTask();
      const order = Array.from(model.shuffledOrder(64));
      for (let b = 0; b < 4; b++) {
        const idx = order.slice(b * 16, b * 16 + 16);
        const xb = Float32Array.from(idx.flatMap((i) => Array.from(x.subarray(i * 6, i * 6 + 6))));
        const yb = Float32Array.from(idx.map((i) => y[i]));
        model.trainBatch(xb, undefined, 16, 6, undefined, yb, undefined);
      }
      return allWeights(model);
    };
    expect(run(9)).toEqual(run(9));
    expect(run(9)).not.toEqual(run(10));
  });

  it('trains over a long stream by truncated BPTT', () => {
    const model = new Model('{"layers": [{"type": "embedding", "vocab": 4, "dim": 3}, {"type": "lstm", "units": 8, "return_sequences": true}, {"type": "dense", "units": 4}]}', 1);
    model.compile('{"loss": {"type": "sparse_categorical_crossentropy", "from_logits": true}, "optimizer": {"type": "adam", "learning_rate": 0.05}, "metrics": ["accuracy"]}');
    // A cyclic text 0 1 2 3 0 1 …: the next symbol is always determined.
    const ids = Uint32Array.from({ length: 200 }, (_, i) => i % 4);
    const next = Uint32Array.from({ length: 200 }, (_, i) => (i + 1) % 4);
    let reports: { step: number; loss: number }[] = [];
    for (let pass = 0; pass < 5; pass++) reports = JSON.parse(model.trainStream(undefined, ids, 1, 200, undefined, next, 20, 30));
    expect(reports).toHaveLength(10);
    const evaluation = JSON.parse(model.evaluate(undefined, ids, 1, 200, undefined, undefined, next, 1));
    expect(evaluation.metrics.accuracy).toBe(1);
    expect(thrown(() => model.trainStream(undefined, ids, 1, 200, undefined, next, 0, 5))).toMatchObject({ name: 'ConfigError', message: expect.stringContaining('k1 and k2') });
  });

  it('reports the gradient flow through time', () => {
    const model = new Model('{"input": 1, "layers": [{"type": "rnn", "units": 4, "bidirectional": true}, {"type": "dense", "units": 1}]}', 2);
    model.compile('{"loss": "mse"}');
    const d = JSON.parse(model.diagnose(new Float32Array(10).fill(0.5), undefined, 1, 10, undefined, new Float32Array([1]), undefined));
    expect(Object.keys(d.stateNorms)).toEqual(['0.l0', '0.l0_reverse']);
    expect(d.stateNorms['0.l0']).toHaveLength(10);
    expect(Object.keys(d.parameterNorms)).toContain('1.weight');
    expect(model.optimizerSteps).toBe(0);
  });

  it('stops a non-finite step with a NumericError and keeps the weights of the last good step', () => {
    const model = new Model(topology, 3);
    model.compile('{"loss": "mse", "optimizer": {"type": "sgd", "learning_rate": 0.1}}');
    const x = new Float32Array(12).fill(0.2);
    model.trainBatch(x, undefined, 2, 6, undefined, new Float32Array([1, 0]), undefined);
    const good = allWeights(model);
    expect(thrown(() => model.trainBatch(x, undefined, 2, 6, undefined, new Float32Array([NaN, 0]), undefined))).toMatchObject({ name: 'NumericError', message: expect.stringContaining('training step 2') });
    expect(allWeights(model)).toEqual(good);
    expect(thrown(() => model.compile('{"loss": "mse", "optimizer": "adamax"}'))).toMatchObject({ name: 'ConfigError', message: expect.stringContaining('unknown optimizer') });
    expect(thrown(() => model.trainBatch(x, undefined, 2, 6, undefined, new Float32Array(3), undefined))).toMatchObject({ name: 'ShapeError', message: expect.stringContaining('targets') });
  });
});
