// A model trained and saved in Node loads in Chromium and predicts the same numbers, in a worker
// (threads build, isolated page) and inline on the main thread (simd build); it trains there too.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sequential } from '../../dist/node/index.js';
import { launch } from './chromium.js';
import { serve } from './server.js';

let browser: Browser;
let server: Awaited<ReturnType<typeof serve>>;
let saved: number[];
let nodePrediction: number[];
const shape = [8, 6, 1];
const x = Array.from({ length: 48 }, (_, i) => Math.sin(i / 3));

beforeAll(async () => {
  server = await serve();
  browser = await launch();
  const model = await sequential([{ type: 'lstm', units: 8, return_sequences: true }, { type: 'gru', units: 4 }, { type: 'dense', units: 1 }], { input: 1, seed: 4, worker: false });
  await model.compile({ loss: 'mse', optimizer: { type: 'adam', learning_rate: 0.01 } });
  const xs = { data: Float32Array.from(x), shape };
  await model.fit(xs, { data: Float32Array.from({ length: 8 }, (_, i) => i / 8), shape: [8, 1] }, { epochs: 5, batchSize: 4 });
  saved = Array.from(await model.save());
  nodePrediction = Array.from((await model.predict(xs)).data);
  await model.dispose();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${server.origin}/isolated/test/browser/page.html`);
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
