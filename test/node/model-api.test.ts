// The public model API, the same suite in both placements: built with Keras' layer names,
// trained with fit (validation, early stopping, progress, cancellation, TBPTT), evaluated,
// predicted, streamed, sampled, saved and loaded, with typed errors for every kind of bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError, DTypeError, DisposedError, ModelFormatError, NumericError, ShapeError, loadModel, sequential,
  type Model,
} from '../../dist/node/index.js';

/// 48 sequences of 5 steps, each step one value; the target is the sequence's mean.
function meanTask(n = 48, steps = 5) {
  let seed = 7;
  const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const x = Float32Array.from({ length: n * steps }, next);
  const y = Float32Array.from({ length: n }, (_, i) => x.subarray(i * steps, (i + 1) * steps).reduce((a, b) => a + b, 0) / steps);
  return { x: { data: x, shape: [n, steps, 1] }, y: { data: y, shape: [n, 1] } };
}

const placements = [
  { name: 'in a worker', options: { worker: true, threads: 1 } },
  { name: 'inline', options: { worker: false, threads: 1 } },
] as const;

describe.each(placements)('the model API $name', ({ options }) => {
  let model: Model;
  beforeAll(async () => {
    model = await sequential([{ type: 'gru', units: 8 }, { type: 'dense', units: 1 }], { input: 1, seed: 3, ...options });
  });
  afterAll(() => model.dispose());

  it('summarises layers, output shapes and parameter counts', async () => {
    const s = await model.summary();
    expect(s.layers).toEqual([
      { index: 0, kind: 'GRU (input 1, hidden 8, 1 layer)', outputShape: [null, 8], parameters: 3 * 8 * (1 + 8) + 2 * 24 },
      { index: 1, kind: 'Dense', outputShape: [null, 1], parameters: 9 },
    ]);
    expect(s.parameters).toBe(273);
    expect(s.bytes).toBe(273 * 4);
  });

  it('fits with validation, reports progress, and lowers the loss', async () => {
    await model.compile({ loss: 'mse', optimizer: { type: 'adam', learning_rate: 0.02 }, metrics: ['mae'], seed: 1 });
    const { x, y } = meanTask();
    const before = await model.evaluate(x, y);
    const progress: number[] = [];
    const ends: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 15, batchSize: 12, validationSplit: 0.25,
      onProgress: (e) => progress.push(e.epoch), onEpochEnd: (log) => ends.push(log.epoch),
    });
    expect(history.stopped).toBe('completed');
    expect(history.epochs).toHaveLength(15);
    expect(ends).toEqual([...Array(15).keys()]);
    expect(progress.length).toBeGreaterThanOrEqual(15);
    expect(history.epochs[14].valLoss).toBeLessThan(history.epochs[0].valLoss!);
    const after = await model.evaluate(x, y);
    expect(after.loss).toBeLessThan(before.loss / 5);
    expect(after.metrics.mae).toBeLessThan(before.metrics.mae);
  });

  it('shows the gradient flow through time without updating', async () => {
    const { x, y } = meanTask(4);
    const before = await model.predict(x);
    const d = await model.diagnose(x, y);
    expect(Object.keys(d.stateNorms)).toEqual(['0.l0']);
    expect(d.stateNorms['0.l0']).toHaveLength(5);
    expect(d.stateNorms['0.l0'].every((v) => v > 0 && Number.isFinite(v))).toBe(true);
    expect(Object.keys(d.parameterNorms).sort()).toEqual(['0.bias_hh_l0', '0.bias_ih_l0', '0.weight_hh_l0', '0.weight_ih_l0', '1.bias', '1.weight']);
    expect(Array.from((await model.predict(x)).data)).toEqual(Array.from(before.data));
  });

  it('predicts in batches, from typed arrays or nested arrays alike', async () => {
    const { x } = meanTask(10);
    const whole = await model.predict(x);
    expect(whole.shape).toEqual([10, 1]);
    // Batches of up to 4 rows take the unpacked kernel, larger ones the packed one: the same
    // numbers to float precision, not to the bit (as in PyTorch and TF.js).
    const batched = await model.predict(x, { batchSize: 3 });
    Array.from(batched.data).forEach((v, i) => expect(v).toBeCloseTo(whole.data[i], 6));
    expect(Array.from((await model.predict(x, { batchSize: 5 })).data)).toEqual(Array.from(whole.data.subarray(0, 10)));
    const nested = [[...x.data.subarray(0, 5)].map((v) => [v])];
    expect((await model.predict(nested)).data[0]).toBeCloseTo(whole.data[0], 6);
    expect((await model.predict(nested)).data[0]).toBe(batched.data[0]);
  });

  it('streams one step at a time with the state kept inside', async () => {
    const seqModel = await sequential([{ type: 'lstm', units: 4, return_sequences: true }, { type: 'dense', units: 1 }], { input: 1, seed: 2, ...options });
    const series = [0.1, 0.5, -0.3, 0.8, 0.2];
    const whole = await seqModel.predict({ data: Float32Array.from(series), shape: [1, 5, 1] });
    const stream = seqModel.stream();
    const stepped: number[] = [];
    for (const v of series) stepped.push((await stream.step([[v]])).data[0]);
    stepped.forEach((v, t) => expect(v).toBeCloseTo(whole.data[t], 6));
    await stream.reset();
    expect((await stream.step([[series[0]]])).data[0]).toBeCloseTo(whole.data[0], 6);
    await seqModel.dispose();
  });

  it('streams a batch of one through the few-rows product as a batch of eight computes it', async () => {
    // A batch of one reads the weights row by row, a batch of eight through the packed GEMM:
    // sizes that leave remainders in both (input 5, hidden 13: 52 gate rows) must agree.
    const lstm = await sequential([{ type: 'lstm', units: 13, return_sequences: true }], { input: 5, seed: 4, ...options });
    const steps = 3;
    const x = Float32Array.from({ length: 8 * steps * 5 }, (_, i) => Math.sin(i * 0.7));
    const batch = await lstm.predict({ data: x, shape: [8, steps, 5] });
    const stream = lstm.stream();
    for (let t = 0; t < steps; t++) {
      const y = await stream.step({ data: x.subarray(t * 5, (t + 1) * 5), shape: [1, 5] });
      y.data.forEach((v, j) => expect(v).toBeCloseTo(batch.data[t * 13 + j], 6));
    }
    await lstm.dispose();
  });

  it('stops early and restores the best weights', async () => {
    const m = await sequential([{ type: 'gru', units: 4 }, { type: 'dense', units: 1 }], { input: 1, seed: 5, ...options });
    // A step size too large to settle, so the validation loss wanders.
    await m.compile({ loss: 'mse', optimizer: { type: 'sgd', learning_rate: 0.9 }, seed: 2 });
    const { x, y } = meanTask(16);
    const history = await m.fit(x, y, { epochs: 60, batchSize: 4, validationData: [x, y], earlyStopping: { patience: 3, restoreBestWeights: true } });
    expect(history.stopped).toBe('early-stopping');
    const best = Math.min(...history.epochs.map((e) => e.valLoss!));
    expect((await m.evaluate(x, y)).loss).toBeCloseTo(best, 5);
    await m.dispose();
  });

  it('cancels within one batch through an AbortSignal and stays usable', async () => {
    const m = await sequential([{ type: 'lstm', units: 16 }, { type: 'dense', units: 1 }], { input: 1, seed: 5, ...options });
    await m.compile({ loss: 'mse' });
    const { x, y } = meanTask(256, 20);
    const controller = new AbortController();
    let events = 0;
    let abortedIn = -1;
    const history = await m.fit(x, y, {
      epochs: 1000, batchSize: 8, signal: controller.signal,
      onProgress: (e) => {
        if (++events === 3) {
          abortedIn = e.epoch;
          controller.abort();
        }
      },
    });
    expect(history.stopped).toBe('cancelled');
    // The epoch running when the signal fired does not finish, in a worker as inline.
    expect(history.epochs.length).toBe(abortedIn);
    expect((await m.predict(x)).shape).toEqual([256, 1]);
    await m.dispose();
  });

  it('trains a token model over one long stream by truncated BPTT, then samples from it', async () => {
    const m = await sequential([{ type: 'embedding', vocab: 5, dim: 4 }, { type: 'lstm', units: 12, return_sequences: true }, { type: 'dense', units: 5 }], { seed: 1, ...options });
    await m.compile({ loss: { type: 'sparse_categorical_crossentropy', from_logits: true }, optimizer: { type: 'adam', learning_rate: 0.05 }, metrics: ['accuracy'] });
    const text = Uint32Array.from({ length: 300 }, (_, i) => [0, 1, 2, 3, 4, 3, 2, 1][i % 8]);
    const next = Uint32Array.from({ length: 300 }, (_, i) => [0, 1, 2, 3, 4, 3, 2, 1][(i + 1) % 8]);
    const history = await m.fit({ data: text, shape: [1, 300] }, { data: next, shape: [1, 300] }, { epochs: 12, tbptt: { k1: 20, k2: 30 } });
    expect(history.epochs.at(-1)!.metrics.accuracy).toBe(1);
    const sampled = await m.generate([0, 1, 2], { length: 10, temperature: 0 });
    expect(Array.from(sampled)).toEqual([3, 4, 3, 2, 1, 0, 1, 2, 3, 4]);
    const again = await m.generate([0], { length: 20, temperature: 1.2, topK: 3, seed: 9 });
    expect(Array.from(again)).toEqual(Array.from(await m.generate([0], { length: 20, temperature: 1.2, topK: 3, seed: 9 })));
    await m.dispose();
  });

  it('saves to bytes and loads to the same predictions, compile options included', async () => {
    const { x, y } = meanTask(8);
    const bytes = await model.save();
    const copy = await loadModel(bytes, options);
    expect(Array.from((await copy.predict(x)).data)).toEqual(Array.from((await model.predict(x)).data));
    expect((await copy.evaluate(x, y)).loss).toBeCloseTo((await model.evaluate(x, y)).loss, 6);
    await copy.dispose();
  });

  it('resumes training from a saved optimizer state exactly where it stopped', async () => {
    const { x, y } = meanTask(16);
    const m = await sequential([{ type: 'lstm', units: 4 }, { type: 'dense', units: 1 }], { input: 1, seed: 8, ...options });
    await m.compile({ loss: 'mse', optimizer: { type: 'adam', learning_rate: 0.01 } });
    await m.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false });
    const resumed = await loadModel(await m.save(), options);
    const fresh = await loadModel(await m.save({ includeOptimizer: false }), options);
    for (const model of [m, resumed, fresh]) await model.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false });
    const [a, b, c] = await Promise.all([m, resumed, fresh].map((model) => model.predict(x)));
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(Array.from(c.data)).not.toEqual(Array.from(a.data));
    await Promise.all([m, resumed, fresh].map((model) => model.dispose()));
  });

  it('rejects corrupt, truncated and foreign files with ModelFormatError', async () => {
    const bytes = await model.save();
    const header = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const flipped = bytes.slice();
    flipped[8] = 0x7b + 1; // the header's opening brace
    const huge = bytes.slice();
    new DataView(huge.buffer).setBigUint64(0, 2n ** 62n, true);
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['truncated data', bytes.slice(0, bytes.length - 10)],
      ['truncated header', bytes.slice(0, 8 + header - 4)],
      ['corrupt header', flipped],
      ['huge header length', huge],
      ['not seqwasm', new TextEncoder().encode('        {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}')],
    ];
    for (const [what, data] of cases) {
      await expect(loadModel(data, options), what).rejects.toBeInstanceOf(ModelFormatError);
    }
    await expect(loadModel('hello' as never, options)).rejects.toBeInstanceOf(ModelFormatError);
  });

  it('answers bad input with typed errors that name the problem', async () => {
    const { x, y } = meanTask(4);
    await expect(model.predict({ data: x.data, shape: [4, 5] })).rejects.toThrow(ShapeError);
    await expect(model.predict({ data: x.data, shape: [4, 5, 2] })).rejects.toThrow(/holds 20/);
    await expect(model.predict([[[1], [2]], [[3]]])).rejects.toThrow(ShapeError);
    await expect(model.predict([[[1], [NaN]]])).rejects.toThrow(NumericError);
    await expect(model.predict({ data: new Float32Array(0), shape: [0, 0, 1] })).rejects.toThrow(/at least one sequence/);
    await expect(model.predict({ data: new Float32Array(0), shape: [2, 0, 1] })).rejects.toThrow(ShapeError);
    await expect(model.predict({ data: [1, 2] as never, shape: [1, 2, 1] })).rejects.toThrow(DTypeError);
    await expect(model.predict({ data: new Uint32Array(5), shape: [1, 5, 1] })).rejects.toThrow(/float values/);
    await expect(model.fit(x, { data: y.data, shape: [4, 2] as number[] } as never)).rejects.toThrow(ShapeError);
    await expect(model.fit(x, y, { epochs: 1, colour: 'red' } as never)).rejects.toThrow(/unknown option 'colour'/);
    await expect(model.fit(x, y, { epochs: 0 })).rejects.toThrow(ConfigError);
    await expect(model.fit(x, y, { tbptt: { k1: 2 }, validationSplit: 0.5 })).rejects.toThrow(/validationSplit cannot be combined with tbptt/);
    await expect(model.compile({ loss: 'hinge' })).rejects.toThrow(/unknown loss/);
    // Every call rejects, never throws before its promise: evaluate converts its data first.
    await expect(model.evaluate({ data: x.data, shape: [4, 5] }, y)).rejects.toThrow(ShapeError);
    await expect(model.predict(x, { lengths: [5, 5, 9, 1] })).rejects.toThrow(/lengths/);
    await expect(sequential([{ type: 'transformer' } as never], { input: 1, ...options })).rejects.toThrow(ConfigError);
    await expect(sequential([{ type: 'lstm', units: 4 }], { ...options })).rejects.toThrow(/input/);
  });

  it('rejects every call after dispose', async () => {
    const m = await sequential([{ type: 'rnn', units: 2 }], { input: 1, ...options });
    await m.dispose();
    await expect(m.predict([[[1]]])).rejects.toThrow(DisposedError);
    await expect(m.summary()).rejects.toThrow(DisposedError);
  });
});
