// The encoder-decoder API, the same suite in both placements: built from a configuration,
// trained by teacher forcing, evaluated (exact match, BLEU), decoded greedily and by beam search
// with attention weights, saved and loaded, with typed errors for bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError, DTypeError, DisposedError, ModelFormatError, ShapeError, encoderDecoder, loadModel, loadSeq2Seq, sequential,
  type Seq2SeqConfig, type Seq2SeqModel,
} from '../../dist/node/index.js';

/** Digit strings (ids 1–6) of 2 to 4 symbols and their reversals (target ids 2–7). */
function reversals(n: number, seed: number) {
  const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const sources: number[][] = [];
  const targets: number[][] = [];
  for (let i = 0; i < n; i++) {
    const digits = Array.from({ length: 2 + Math.floor(next() * 3) }, () => 1 + Math.floor(next() * 6));
    sources.push(digits);
    targets.push([...digits].reverse().map((d) => d + 1));
  }
  return { sources, targets };
}

const config: Seq2SeqConfig = {
  source: { vocab: 7, dim: 8 },
  target: { vocab: 8, dim: 8 },
  encoder: { type: 'gru', units: 12, bidirectional: true },
  decoder: { type: 'gru', units: 24 },
  attention: { type: 'luong', score: 'general' },
  start_token: 0,
  end_token: 1,
};

const placements = [
  { name: 'in a worker', options: { worker: true, threads: 1 } },
  { name: 'inline', options: { worker: false, threads: 1 } },
] as const;

describe.each(placements)('the encoder-decoder API $name', ({ options }) => {
  let model: Seq2SeqModel;
  const train = reversals(1200, 3);
  const heldOut = reversals(100, 99);
  beforeAll(async () => {
    model = await encoderDecoder(config, { seed: 2, ...options });
  });
  afterAll(() => model.dispose());

  it('lists every parameter in PyTorch layout', async () => {
    const s = await model.summary();
    expect(s.parameters.map((p) => p.name)).toContain('attention.key.weight');
    expect(s.parameters.find((p) => p.name === 'encoder.weight_ih_l0_reverse')?.shape).toEqual([36, 8]);
    expect(s.parameters.find((p) => p.name === 'combine.weight')?.shape).toEqual([24, 48]);
    expect(s.bytes).toBe(s.total * 4);
  });

  it('learns to reverse digit strings, with validation metrics each epoch', async () => {
    await model.compile({ optimizer: { type: 'adam', learning_rate: 0.01 }, seed: 1 });
    const ends: number[] = [];
    const history = await model.fit(train.sources, train.targets, { epochs: 6, batchSize: 32, validationData: [heldOut.sources, heldOut.targets], onEpochEnd: (log) => ends.push(log.epoch) });
    expect(ends).toEqual([0, 1, 2, 3, 4, 5]);
    expect(history.epochs[5].loss).toBeLessThan(history.epochs[0].loss);
    const e = await model.evaluate(heldOut.sources, heldOut.targets);
    expect(e.exactMatch).toBeGreaterThan(0.9);
    expect(e.bleu).toBeGreaterThan(0.9);
    expect(history.epochs[5].valMetrics?.exactMatch).toBe(e.exactMatch);
  });

  it('decodes greedily and by beam search, with attention over the source', async () => {
    const sources = [[3, 1, 4], [2, 6]];
    const greedy = await model.decode(sources);
    expect(Array.from(greedy[0].tokens)).toEqual([5, 2, 4]);
    expect(Array.from(greedy[1].tokens)).toEqual([7, 3]);
    expect(greedy[0].finished).toBe(true);
    expect(greedy[0].attention.shape).toEqual([4, 3]);
    const rows = greedy[0].attention.data;
    for (let r = 0; r < 4; r++) expect(rows[r * 3] + rows[r * 3 + 1] + rows[r * 3 + 2]).toBeCloseTo(1, 5);
    // Reversal: the first output looks at the last source symbol most.
    expect(rows[2]).toBeGreaterThan(Math.max(rows[0], rows[1]));
    const one = await model.decode(sources, { beamWidth: 1 });
    expect(one).toEqual(greedy);
    const wide = await model.decode(sources, { beamWidth: 4 });
    wide.forEach((w, i) => expect(w.logProb).toBeGreaterThanOrEqual(greedy[i].logProb - 1e-6));
  });

  it('saves and loads to the same outputs, and refuses the wrong loader', async () => {
    const bytes = await model.save();
    const loaded = await loadSeq2Seq(bytes, options);
    expect(await loaded.decode(heldOut.sources.slice(0, 10))).toEqual(await model.decode(heldOut.sources.slice(0, 10)));
    await loaded.dispose();
    await expect(loadModel(bytes, options)).rejects.toThrow(/load it with loadSeq2Seq/);
    const plain = await sequential([{ type: 'dense', units: 1 }], { input: 1, ...options });
    await expect(loadSeq2Seq(await plain.save(), options)).rejects.toThrow(ModelFormatError);
    await plain.dispose();
    await expect(loadSeq2Seq(bytes.slice(0, 40), options)).rejects.toThrow(ModelFormatError);
  });

  it('answers bad input with typed errors that name the problem', async () => {
    await expect(encoderDecoder({ ...config, decoder: { type: 'gru', units: 10 } }, options)).rejects.toThrow(/units \(10\) must be 24/);
    await expect(encoderDecoder({ ...config, attention: { type: 'luong', score: 'cosine' as never } }, options)).rejects.toThrow(ConfigError);
    await expect(model.decode([[3, 9]])).rejects.toThrow(ShapeError);
    await expect(model.decode([[]])).rejects.toThrow(/sequence 0 is empty/);
    await expect(model.decode([[1.5]])).rejects.toThrow(DTypeError);
    await expect(model.decode([[1]], { beamWidth: 0 })).rejects.toThrow(ConfigError);
    await expect(model.decode([[1]], { colour: 'red' } as never)).rejects.toThrow(/unknown option 'colour'/);
    await expect(model.fit([[1, 2]], [[2], [3]])).rejects.toThrow(/1 sources but 2 targets/);
    await expect(model.fit([[1, 2]], [[9]])).rejects.toThrow(/below the vocabulary size 8/);
    await expect(model.compile({ scheduled_sampling: 2 })).rejects.toThrow(/scheduled_sampling must be in \[0, 1\]/);
  });

  it('rejects every call after dispose', async () => {
    const m = await encoderDecoder(config, options);
    await m.dispose();
    await expect(m.decode([[1]])).rejects.toThrow(DisposedError);
  });
});
