// The wasm boundary of the recurrent core, called directly: handles, parameters by PyTorch name,
// and every bad input answered by a named error, never a trap.
import { beforeAll, describe, expect, it } from 'vitest';
import { RecurrentStack } from '../../pkg/simd/seqwasm.js';
import { loadSimd, thrown } from '../shared/wasm.js';

beforeAll(loadSimd);

describe('RecurrentStack across the wasm boundary', () => {
  it('names its parameters as PyTorch does', () => {
    const stack = new RecurrentStack('{"cell": "lstm", "input": 3, "hidden": 4, "layers": 2, "bidirectional": true}');
    const names = stack.parameterNames();
    expect(names).toHaveLength(16);
    expect(names.slice(0, 5)).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_ih_l0_reverse']);
    expect(stack.parameter('weight_ih_l1')).toHaveLength(16 * 8);
    stack.free();
  });

  it('computes an LSTM with closed-form weights', () => {
    // All weights zero: i = f = o = 1/2, g = 0, so c halves each step and h = tanh(c)/2.
    const stack = new RecurrentStack('{"cell": "lstm", "input": 1, "hidden": 1}');
    const out = stack.forward(new Float32Array([3, -2]), 2, 1, undefined, new Float32Array([0.7]), new Float32Array([1]));
    const [y1, y2] = Array.from(out.y);
    expect(y1).toBeCloseTo(0.5 * Math.tanh(0.5), 6);
    expect(y2).toBeCloseTo(0.5 * Math.tanh(0.25), 6);
    expect(Array.from(out.cN!)).toEqual([0.25]);
    out.free();
    stack.free();
  });

  it('uses parameters set by name, and zeroes outputs past each length', () => {
    // Elman tanh with W_ih = 1 and W_hh = 0.5, as in the core's golden values.
    const stack = new RecurrentStack('{"cell": "elman", "input": 1, "hidden": 1}');
    stack.setParameter('weight_ih_l0', new Float32Array([1]));
    stack.setParameter('weight_hh_l0', new Float32Array([0.5]));
    // Two sequences, time-major: (1, 0, -1) and (1, 0) padded.
    const out = stack.forward(new Float32Array([1, 1, 0, 0, -1, 9]), 3, 2, new Uint32Array([3, 2]));
    const y = Array.from(out.y);
    expect(y[0]).toBeCloseTo(0.7615941559557649, 6);
    expect(y[2]).toBeCloseTo(0.3633994843890525, 6);
    expect(y[4]).toBeCloseTo(-0.6741436761583508, 6);
    expect(y[5]).toBe(0);
    expect(Array.from(out.hN)[1]).toBeCloseTo(0.3633994843890525, 6);
    // The last output of each sequence: step 3 for the first, step 2 for the second.
    expect(Array.from(out.last)).toEqual([y[4], y[3]]);
    expect(out.cN).toBeUndefined();
  });

  it('carries state between stateful calls until reset', () => {
    const stack = new RecurrentStack('{"cell": "gru", "input": 2, "hidden": 3}');
    stack.setParameter('weight_ih_l0', new Float32Array(18).map((_, i) => Math.sin(i)));
    stack.setParameter('weight_hh_l0', new Float32Array(27).map((_, i) => Math.cos(i) / 2));
    const x = new Float32Array(4 * 2).map((_, i) => i / 8 - 0.5);
    const whole = Array.from(stack.forward(x, 4, 1).y);
    const first = Array.from(stack.forwardStateful(x.subarray(0, 4), 2, 1).y);
    const second = Array.from(stack.forwardStateful(x.subarray(4), 2, 1).y);
    expect([...first, ...second]).toEqual(whole);
    stack.resetStates();
    expect(Array.from(stack.forwardStateful(x.subarray(0, 4), 2, 1).y)).toEqual(first);
    expect(thrown(() => stack.forwardStateful(new Float32Array(4), 1, 2))).toMatchObject({ name: 'ShapeError', message: expect.stringContaining('reset the states') });
  });

  it('trains: gradients of a closed-form step come back by parameter name', () => {
    // One Elman step, y = tanh(w·x + u·h0): dy/dx = w(1 − y²), dy/dw = x(1 − y²), dy/dh0 = u(1 − y²).
    const stack = new RecurrentStack('{"cell": "elman", "input": 1, "hidden": 1}');
    stack.setParameter('weight_ih_l0', new Float32Array([0.8]));
    stack.setParameter('weight_hh_l0', new Float32Array([-0.5]));
    expect(thrown(() => stack.backward(new Float32Array([1])))).toMatchObject({ name: 'ConfigError', message: expect.stringContaining('forwardTrain first') });
    const y = stack.forwardTrain(new Float32Array([0.6]), 1, 1, undefined, new Float32Array([0.4]), undefined, 1).y[0];
    expect(y).toBeCloseTo(Math.tanh(0.8 * 0.6 - 0.5 * 0.4), 6);
    const grads = stack.backward(new Float32Array([1]));
    const slope = 1 - y * y;
    expect(grads.dx[0]).toBeCloseTo(0.8 * slope, 6);
    expect(grads.dh0[0]).toBeCloseTo(-0.5 * slope, 6);
    expect(grads.parameter('weight_ih_l0')[0]).toBeCloseTo(0.6 * slope, 6);
    expect(grads.parameter('weight_hh_l0')[0]).toBeCloseTo(0.4 * slope, 6);
    expect(grads.parameter('bias_hh_l0')[0]).toBeCloseTo(slope, 6);
    expect(thrown(() => grads.parameter('weight_xx'))).toMatchObject({ name: 'ConfigError' });
    expect(thrown(() => stack.backward(new Float32Array(3)))).toMatchObject({ name: 'ShapeError', message: expect.stringContaining('dy') });
  });

  it('draws the same dropout masks for the same seed', () => {
    const stack = new RecurrentStack('{"cell": "lstm", "input": 2, "hidden": 3, "layers": 2, "dropout": 0.5, "input_dropout": 0.5, "recurrent_dropout": 0.5}');
    for (const name of stack.parameterNames()) {
      const size = stack.parameter(name).length;
      stack.setParameter(name, new Float32Array(size).map((_, i) => Math.sin(i + name.length)));
    }
    const x = new Float32Array(4 * 2 * 2).map((_, i) => Math.cos(i));
    const run = (seed: number) => Array.from(stack.forwardTrain(x, 4, 2, undefined, undefined, undefined, seed).y);
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
    // Inference applies no dropout.
    expect(Array.from(stack.forward(x, 4, 2).y)).not.toEqual(run(7));
  });

  it('answers bad configs, shapes and names with named errors', () => {
    expect(thrown(() => new RecurrentStack('{"cell": "lstm", "input": 3, "hiden": 4}'))).toMatchObject({ name: 'ConfigError', message: expect.stringContaining('unknown field `hiden`') });
    expect(thrown(() => new RecurrentStack('{"cell": "gru", "input": 3, "hidden": 4, "dropout": 1}'))).toMatchObject({ name: 'ConfigError' });
    expect(thrown(() => new RecurrentStack('not json'))).toMatchObject({ name: 'ConfigError' });

    const stack = new RecurrentStack('{"cell": "gru", "input": 3, "hidden": 4, "layers": 2}');
    expect(thrown(() => stack.forward(new Float32Array(29), 5, 2))).toEqual({
      name: 'ShapeError',
      message: 'GRU (input 3, hidden 4, 2 layers): x: expected [T=5, B=2, I=3] = 30 values, got 29 values',
    });
    expect(thrown(() => stack.forward(new Float32Array(30), 5, 2, new Uint32Array([5, 6])))).toMatchObject({ name: 'ShapeError', message: expect.stringContaining('lengths of at most T=5') });
    expect(thrown(() => stack.forward(new Float32Array(30), 5, 2, undefined, undefined, new Float32Array(16)))).toMatchObject({ name: 'ConfigError', message: expect.stringContaining('only an LSTM has a cell state') });
    expect(thrown(() => stack.forward(new Float32Array(30), 2 ** 31, 2 ** 20))).toMatchObject({ name: 'ShapeError', message: expect.stringContaining('fits in memory') });
    expect(thrown(() => stack.setParameter('weight_ih_l0', new Float32Array(5)))).toMatchObject({ name: 'ShapeError', message: expect.stringContaining('expected 36 values, got 5 values') });
    expect(thrown(() => stack.parameter('weight_ih_l9'))).toMatchObject({ name: 'ConfigError', message: expect.stringContaining('no parameter named `weight_ih_l9`') });
    // After all of that the instance still works.
    expect(stack.forward(new Float32Array(30), 5, 2).y).toHaveLength(40);
  });
});
