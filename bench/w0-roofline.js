// W0: GFLOP/s of seqwasm's matrix multiply, one thread (simd build) and every core (threads
// build), and the same in the relaxed-simd builds where this runtime has relaxed SIMD; run
// inline so that only the kernel is timed. Median and min–max over repetitions after a warm-up.
import { availableParallelism } from 'node:os';
import { createRuntime } from '../dist/node/index.js';
import { relaxedAvailable } from './relaxed.js';

// Warm-up: at least `warmup` products and `warmupMs` of them, so that V8 has optimised the
// kernel's code (it starts in its baseline tier) before the timing.
const PLANS = {
  smoke: { sizes: [64], warmup: 1, warmupMs: 0, repeats: 3 },
  quick: { sizes: [256, 512], warmup: 2, warmupMs: 300, repeats: 5 },
  full: { sizes: [256, 512, 1024], warmup: 3, warmupMs: 1000, repeats: 9 },
};

export function matrix(n) {
  const m = new Float32Array(n * n);
  for (let i = 0; i < m.length; i++) m[i] = Math.sin(i) / 2;
  return m;
}

export async function roofline(mode) {
  const plan = PLANS[mode];
  const rows = [];
  const relaxed = await relaxedAvailable();
  const builds = [false, ...(relaxed === true ? [true] : [])].flatMap((relaxedSimd) => [1, availableParallelism()].map((threads) => ({ threads, relaxedSimd })));
  for (const { threads, relaxedSimd } of builds) {
    const runtime = await createRuntime({ worker: false, threads, relaxedSimd });
    for (const n of plan.sizes) {
      const a = matrix(n);
      const b = matrix(n);
      const start = performance.now();
      for (let i = 0; i < plan.warmup || performance.now() - start < plan.warmupMs; i++) await runtime.matmul(a, b, n, n, n);
      const ms = [];
      for (let i = 0; i < plan.repeats; i++) {
        const start = performance.now();
        await runtime.matmul(a, b, n, n, n);
        ms.push(performance.now() - start);
      }
      ms.sort((x, y) => x - y);
      const gflops = (t) => (2 * n ** 3) / t / 1e6;
      const median = ms[ms.length >> 1];
      rows.push({
        build: runtime.info.flavour,
        threads: runtime.info.threads,
        size: `${n}³`,
        'median ms': +median.toFixed(3),
        'GFLOP/s': +gflops(median).toFixed(1),
        'GFLOP/s min–max': `${gflops(ms[ms.length - 1]).toFixed(1)}–${gflops(ms[0]).toFixed(1)}`,
      });
    }
    await runtime.dispose();
  }
  const notes = relaxed === true ? [] : [`relaxed-simd (FMA) builds not run: ${relaxed}`];
  if (availableParallelism() === 1) notes.push('one core: the threads build was not run');
  return { rows, notes };
}
