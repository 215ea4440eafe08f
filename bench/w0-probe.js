// W0's product timed once in every round of the model workloads, so that a workload's "of W0"
// compares it with the GEMM at the same moment. This machine's slow spells last seconds: a W0
// measured minutes before, in a slow spell, once put one-thread workloads above 100% of it.
import { createRuntime } from '../dist/node/index.js';
import { matrix } from './w0-roofline.js';

// 512³ was the fastest one-thread W0 size in most full runs; one product takes 8–16 ms.
const SIZE = { smoke: 64, quick: 512, full: 512 };

/** One-thread runtimes of `builds` ('simd', 'relaxed'), warmed up, and a `measure` of each. */
export async function w0Probe(mode, builds) {
  const n = SIZE[mode];
  const [a, b] = [matrix(n), matrix(n)];
  const runtimes = new Map();
  for (const build of builds) {
    const runtime = await createRuntime({ worker: false, threads: 1, relaxedSimd: build === 'relaxed' });
    runtimes.set(build, runtime);
    const start = performance.now();
    for (let i = 0; i < 3 || performance.now() - start < (mode === 'smoke' ? 0 : 300); i++) await runtime.matmul(a, b, n, n, n);
  }
  return {
    size: `${n}³`,
    /** GFLOP/s of one product in each build, now. */
    async measure() {
      const gflops = {};
      for (const [build, runtime] of runtimes) {
        const start = performance.now();
        await runtime.matmul(a, b, n, n, n);
        gflops[build] = (2 * n ** 3) / (performance.now() - start) / 1e6;
      }
      return gflops;
    },
    async dispose() {
      for (const runtime of runtimes.values()) await runtime.dispose();
    },
  };
}
