// A model trained and saved in Node loads in Chromium and predicts the same numbers, in a worker
// (threads build, isolated page) and inline on the main thread (simd build); it trains there too.
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { encoderDecoder, sequential } from '../../dist/node/index.js';
import { browserSuite } from './chromium.js';

const suite = browserSuite();
let saved: number[];
let nodePrediction: number[];
const shape = [8, 6, 1];
const x = Array.from({ length: 48 }, (_, i) => Math.sin(i / 3));

beforeAll(async () => {
  const model = await sequential([{ type: 'lstm', units: 8, return_sequences: true }, { type: 'gru', units: 4 }, { type: 'dense', units: 1 }], { input: 1, seed: 4, worker: false });
  await model.compile({ loss: 'mse', optimizer: { type: 'adam', learning_rate: 0.01 } });
  const xs = { data: Float32Array.from(x), shape };
  await model.fit(xs, { data: Float32Array.from({ length: 8 }, (_, i) => i / 8), shape: [8, 1] }, { epochs: 5, batchSize: 4 });
  saved = Array.from(await model.save());
  nodePrediction = Array.from((await model.predict(xs)).data);
  await model.dispose();
});

async function open(): Promise<Page> {
  const page = await suite.browser().newPage();
  await page.goto(`${suite.origin()}/isolated/test/browser/page.html`);
  await page.waitForFunction(() => (window as { ready?: boolean }).ready === true, undefined, { timeout: 30_000 });
  return page;
}

type Result = { prediction: number[]; epochs: number; lossFell: boolean; error: string };

describe('a model saved in Node, in Chromium', () => {
  for (const [name, options] of [['in a worker with 2 threads', { threads: 2 }], ['inline on the main thread', { worker: false }]] as const) {
    it(`predicts the same numbers ${name}, trains, and throws typed errors`, async () => {
      const page = await open();
      const result = await page.evaluate(
        ([bytes, data, s, o]) => (window as unknown as { modelInBrowser(...a: unknown[]): Promise<Result> }).modelInBrowser(bytes, data, s, o),
        [saved, x, shape, options] as const,
      );
      expect(result.prediction).toEqual(nodePrediction);
      expect(result.epochs).toBe(3);
      expect(result.lossFell).toBe(true);
      expect(result.error).toBe('true ShapeError');
      await page.close();
    });
  }
});

describe('an encoder-decoder saved in Node, in Chromium', () => {
  const sources = [[1, 2, 3], [3, 1], [2, 2, 2, 1]];
  let bytes: number[];
  let inNode: unknown;
  beforeAll(async () => {
    const config = { source: { vocab: 4, dim: 4 }, target: { vocab: 5, dim: 4 }, encoder: { type: 'lstm', units: 4, bidirectional: true }, decoder: { type: 'lstm', units: 8 }, attention: { type: 'bahdanau', units: 4 }, start_token: 0, end_token: 1 } as const;
    const model = await encoderDecoder(config, { seed: 5, worker: false });
    await model.compile({ seed: 1 });
    await model.fit(sources, [[2, 3], [4], [2, 2, 3]], { epochs: 3, batchSize: 2 });
    bytes = Array.from(await model.save());
    const plain = (d: { tokens: Uint32Array; logProb: number; attention: { data: Float32Array } }) => ({ tokens: Array.from(d.tokens), logProb: d.logProb, attention: Array.from(d.attention.data) });
    inNode = { greedy: (await model.decode(sources)).map(plain), beam: (await model.decode(sources, { beamWidth: 3 })).map(plain) };
    await model.dispose();
  });

  for (const [name, options] of [['in a worker with 2 threads', { threads: 2 }], ['inline on the main thread', { worker: false }]] as const) {
    it(`decodes the same tokens, log-probabilities and attention ${name}`, async () => {
      const page = await open();
      const result = await page.evaluate(
        ([b, s, o]) => (window as unknown as { seq2seqInBrowser(...a: unknown[]): Promise<unknown> }).seq2seqInBrowser(b, s, o),
        [bytes, sources, options] as const,
      );
      expect(result).toEqual(inNode);
      await page.close();
    });
  }
});
