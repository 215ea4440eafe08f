// 10,000 predict calls on one model leave the wasm memory and the JS heap flat: nothing is
// kept per call on either side of the boundary.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { sequential } from '../../dist/node/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heap(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

it('keeps wasm memory and the JS heap flat over 10,000 predict calls', async () => {
  const model = await sequential([{ type: 'lstm', units: 16, return_sequences: true }, { type: 'dense', units: 2 }], { input: 3, worker: false, threads: 1 });
  const x = { data: new Float32Array(4 * 10 * 3).fill(0.25), shape: [4, 10, 3] };
  for (let i = 0; i < 1000; i++) await model.predict(x);
  const [wasmBefore, heapBefore] = [(await model.memoryUsage()).wasmBytes, heap()];
  let last = 0;
  for (let i = 0; i < 10_000; i++) last = (await model.predict(x)).data[0];
  const [wasmAfter, heapAfter] = [(await model.memoryUsage()).wasmBytes, heap()];
  expect(Number.isFinite(last)).toBe(true);
  expect(wasmAfter).toBe(wasmBefore);
  // A leak of even 100 bytes per call would be 1 MB.
  expect(heapAfter - heapBefore).toBeLessThan(1_000_000);
  await model.dispose();
});
