// The foundation demo: seqwasm's matrix multiply in every Node placement, with the build it
// chose and why, checked against a naive product and timed.
// Run with `make demo` (which builds first) or `node examples/matmul.js`.
import { createRuntime } from '../dist/node/index.js';
import { generator, mismatch, naive, randomMatrix } from '../test/shared/matmul-cases.js';

const SIZE = 512;
const REPEATS = 7;

const next = generator(1);
const a = randomMatrix(next, SIZE * SIZE);
const b = randomMatrix(next, SIZE * SIZE);
const want = naive(a, b, SIZE, SIZE, SIZE);
const flops = 2 * SIZE ** 3;

console.log(`C = A·B with A, B ${SIZE}×${SIZE} (f32), median of ${REPEATS} runs\n`);
const rows = [];
for (const options of [
  { worker: false, threads: 1 },
  { worker: false, threads: 2 },
  { worker: true, threads: 1 },
  { worker: true, threads: 2 },
]) {
  const runtime = await createRuntime(options);
  const problem = mismatch(await runtime.matmul(a, b, SIZE, SIZE, SIZE), want, SIZE);
  const times = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    await runtime.matmul(a, b, SIZE, SIZE, SIZE);
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  const ms = times[REPEATS >> 1];
  const { placement, flavour, threads, reason } = runtime.info;
  rows.push({ placement, build: flavour, threads, 'ms': ms.toFixed(2), 'GFLOP/s': (flops / ms / 1e6).toFixed(1), correct: problem ? `NO: ${problem}` : 'yes', why: reason });
  await runtime.dispose();
}
console.table(rows);
console.log('\nThe worker times include copying A and B to the worker and C back.');
if (rows.some((row) => row.correct !== 'yes')) process.exit(1);
