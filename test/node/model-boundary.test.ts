// The Model handle across the wasm boundary: a JSON topology in, batch-major data in and out,
// parameters by PyTorch name, streaming state, losses by Keras name, and named errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { Model, evaluateLoss } from '../../pkg/simd/seqwasm.js';
import { loadSimd, thrown } from '../shared/wasm.js';

beforeAll(loadSimd);

describe('Model across the wasm boundary', () => {
  it('describes its layers with PyTorch-layout parameter counts', () => {
    const model = new Model('{"input": 3, "layers": [{"type": "lstm", "units": 4}, {"type": "dense", "units": 2, "activation": "softmax"}]}', 1);
    expect(JSON.parse(model.summary())).toEqual([
      { index: 0, kind: 'LSTM (input 3, hidden 4, 1 layer)', sequence: false, features: 4, parameters: 144 },
      { index: 1, kind: 'Dense', sequence: false, features: 2, parameters: 10 },
      { index: 1, kind: 'Softmax', sequence: false, features: 2, parameters: 0 },
    ]);
    expect(model.parameterNames()).toEqual(['0.weight_ih_l0', '0.weight_hh_l0', '0.bias_ih_l0', '0.bias_hh_l0', '1.weight', '1.bias']);
    expect([model.takesIds, model.inputFeatures, model.outputFeatures, model.outputSequence]).toEqual([false, 3, 2, false]);
    model.free();
  });

  it('computes a dense layer on batch-major sequences with weights set by name', () => {
    const model = new Model('{"input": 2, "layers": [{"type": "dense", "units": 1}]}', 0);
    model.setParameter('0.weight', new Float32Array([2, -1]));
    model.setParameter('0.bias', new Float32Array([0.5]));
    // Two sequences of three steps: y = 2·a − b + 0.5 at every step.
    const x = new Float32Array([1, 0, 0, 1, 2, 2, /* second */ -1, -1, 3, 0, 0, 0]);
    const out = model.predict(x, 2, 3, undefined, false);
    expect([out.steps, out.features]).toEqual([3, 1]);
    expect(Array.from(out.y)).toEqual([2.5, -0.5, 2.5, -0.5, 6.5, 0.5]);
  });

  it('gives the same outputs streamed step by step as for the whole sequence', () => {
    const model = new Model('{"input": 2, "layers": [{"type": "gru", "units": 5, "return_sequences": true}, {"type": "dense", "units": 1}]}', 7);
    const x = Float32Array.from({ length: 6 * 2 }, (_, i) => Math.sin(i));
    const whole = Array.from(model.predict(x, 1, 6, undefined, false).y);
    const streamed = [0, 1, 2, 3, 4, 5].flatMap((t) => Array.from(model.predict(x.subarray(2 * t, 2 * t + 2), 1, 1, undefined, true).y));
    streamed.forEach((v, t) => expect(v).toBeCloseTo(whole[t], 6));
    model.resetStates();
    const again = model.predict(x.subarray(0, 2), 1, 1, undefined, true).y[0];
    expect(again).toBeCloseTo(whole[0], 6);
  });

  it('takes token ids when the first layer is an embedding', () => {
    const model = new Model('{"layers": [{"type": "embedding", "vocab": 5, "dim": 3}, {"type": "lstm", "units": 4}]}', 3);
    expect(model.takesIds).toBe(true);
    const out = model.predictIds(new Uint32Array([0, 1, 4, 2]), 2, 2, undefined, false);
    expect([out.steps, out.features, out.y.length]).toEqual([undefined, 4, 8]);
    expect(thrown(() => model.predictIds(new Uint32Array([0, 5]), 1, 2, undefined, false))).toMatchObject({ name: 'ShapeError', message: expect.stringContaining('ids below 5') });
    expect(thrown(() => model.predict(new Float32Array(4), 2, 2, undefined, false))).toMatchObject({ name: 'ConfigError', message: expect.stringContaining('token ids') });
  });

  it('answers bad topologies and inputs with named errors, and keeps working', () => {
    expect(thrown(() => new Model('{"input": 3, "layers": [{"type": "lstm", "units": 4, "colour": 1}]}', 0))).toMatchObject({ name: 'ConfigError', message: expect.stringContaining('colour') });
    expect(thrown(() => new Model('{"input": 3, "layers": [{"type": "attention"}]}', 0))).toMatchObject({ name: 'ConfigError', message: expect.stringContaining('unknown layer type') });
    const model = new Model('{"input": 2, "layers": [{"type": "rnn", "units": 3}]}', 0);
    expect(thrown(() => model.predict(new Float32Array(5), 1, 3, undefined, false))).toMatchObject({ name: 'ShapeError', message: expect.stringContaining('[batch=1, steps=3, features=2] = 6 values') });
    expect(thrown(() => model.predict(new Float32Array([0, 0, NaN, 0, 0, 0]), 1, 3, undefined, false))).toMatchObject({ name: 'NumericError', message: expect.stringContaining('step 1') });
    expect(thrown(() => model.predict(new Float32Array(6), 1, 3, new Uint32Array([4]), false))).toMatchObject({ name: 'ShapeError', message: expect.stringContaining('lengths') });
    expect(thrown(() => model.setParameter('0.weight_ih_l0', new Float32Array(2)))).toMatchObject({ name: 'ShapeError' });
    expect(model.predict(new Float32Array(6), 1, 3, undefined, false).y).toHaveLength(3);
  });

  it('evaluates losses by their Keras names', () => {
    const mse = evaluateLoss('"mse"', new Float32Array([1, 2]), new Float32Array([0, 0]), undefined, 1, 2, undefined);
    expect(mse.value).toBeCloseTo(2.5, 6);
    expect(Array.from(mse.grad)).toEqual([1, 2]);
    const ce = evaluateLoss('{"type": "sparse_categorical_crossentropy", "from_logits": true}', new Float32Array([0, 0]), undefined, new Uint32Array([1]), 1, 2, undefined);
    expect(ce.value).toBeCloseTo(Math.LN2, 6);
    expect(thrown(() => evaluateLoss('"hinge"', new Float32Array(1), new Float32Array(1), undefined, 1, 1, undefined))).toMatchObject({ name: 'ConfigError', message: expect.stringContaining('unknown loss') });
  });
});
