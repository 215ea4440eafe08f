// The same runtime API in every Node placement: inline or in a worker, one thread or two.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  ConfigError, DisposedError, DTypeError, NumericError, ShapeError, createRuntime, sequential,
} from '../../dist/node/index.js';
import { checkPlacement } from '../shared/matmul-cases.js';

const placements = [
  { name: 'inline, one thread', options: { worker: false, threads: 1 }, flavour: 'simd' },
  { name: 'inline, two threads', options: { worker: false, threads: 2 }, flavour: 'threads' },
  { name: 'worker, one thread', options: { worker: true, threads: 1 }, flavour: 'simd' },
  { name: 'worker, two threads', options: { worker: true, threads: 2 }, flavour: 'threads' },
] as const;

describe.each(placements)('matmul $name', ({ options, flavour }) => {
  it('equals the naive product on every shape, and one thread to the bit', async () => {
    const result = await checkPlacement(createRuntime, options);
    expect(result.info).toMatchObject({
      flavour,
      threads: options.threads,
      placement: options.worker ? 'worker' : 'inline',
      platform: 'node',
    });
    expect(result.referenceInfo.flavour).toBe('simd');
    expect(result.checked).toBeGreaterThan(125);
    expect(result.failures).toEqual([]);
    expect(result.identical).toBe(true);
  });

  it('returns a standalone array, not a view into wasm memory', async () => {
    const runtime = await createRuntime(options);
    const c = await runtime.matmul(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 1]), 2, 2, 1);
    expect(Array.from(c)).toEqual([3, 7]);
    expect(c.buffer).toBeInstanceOf(ArrayBuffer);
    expect(c.buffer.byteLength).toBe(2 * 4);
    await runtime.dispose();
  });

  it('rejects bad input with typed errors that name the problem', async () => {
    const runtime = await createRuntime(options);
    const two = new Float32Array(2);
    await expect(runtime.matmul([1, 2] as unknown as Float32Array, two, 1, 2, 1)).rejects.toThrow(DTypeError);
    await expect(runtime.matmul(new Float64Array(2) as unknown as Float32Array, two, 1, 2, 1)).rejects.toThrow(/a must be a Float32Array, got a Float64Array/);
    await expect(runtime.matmul(two, two, 2, 2, 1)).rejects.toThrow(ShapeError);
    await expect(runtime.matmul(two, two, 2, 2, 1)).rejects.toThrow('a must hold 2×2 = 4 values, got 2');
    await expect(runtime.matmul(two, two, -1, 2, 1)).rejects.toThrow(ShapeError);
    await expect(runtime.matmul(two, two, 1.5, 2, 1)).rejects.toThrow(/m must be a whole number/);
    await expect(runtime.matmul(new Float32Array([1, NaN]), two, 1, 2, 1)).rejects.toThrow(NumericError);
    await expect(runtime.matmul(two, new Float32Array([Infinity, 0]), 1, 2, 1)).rejects.toThrow('b holds Infinity at index 0');
    await expect(runtime.matmul(two, two, 1, 2, 1, { transfr: true } as object)).rejects.toThrow(ConfigError);
    // The runtime is still usable after every rejection.
    expect(Array.from(await runtime.matmul(new Float32Array([1, 2]), new Float32Array([3, 4]), 1, 2, 1))).toEqual([11]);
    await runtime.dispose();
    await expect(runtime.matmul(two, two, 1, 2, 1)).rejects.toThrow(DisposedError);
  });
});

describe('a streaming step on two threads', () => {
  it('shares the recurrent product out over both threads and gives one thread\'s bits', async () => {
    // Hidden 250: a 1 MB recurrent weight (split over threads in blocks of rows, the last one
    // short), an input weight of 16 KB (not split).
    const streamed = async (options: object) => {
      const lstm = await sequential([{ type: 'lstm', units: 250, return_sequences: true }], { input: 4, seed: 7, ...options });
      const stream = lstm.stream();
      const out: number[] = [];
      for (let t = 0; t < 4; t++) {
        const y = await stream.step({ data: Float32Array.from({ length: 4 }, (_, i) => Math.sin(t * 4 + i)), shape: [1, 4] });
        out.push(...y.data);
      }
      await lstm.dispose();
      return out;
    };
    const one = await streamed({ worker: false, threads: 1 });
    expect(one.length).toBe(4 * 250);
    expect(one.every(Number.isFinite) && one.some((v) => v !== 0)).toBe(true);
    expect(await streamed({ worker: true, threads: 2 })).toEqual(one);
    expect(await streamed({ worker: false, threads: 2 })).toEqual(one);
  });

  it('lets the pool\'s workers sleep once the calls stop', async () => {
    // They spin for 2 ms after each call; one that never stopped would burn a core for good.
    const lstm = await sequential([{ type: 'lstm', units: 250, return_sequences: true }], { input: 4, worker: false, threads: 2 });
    const stream = lstm.stream();
    for (let t = 0; t < 20; t++) await stream.step({ data: new Float32Array(4).fill(0.5), shape: [1, 4] });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [wall, cpu] = [performance.now(), process.cpuUsage()];
    await new Promise((resolve) => setTimeout(resolve, 300));
    const used = process.cpuUsage(cpu);
    const busyMs = (used.user + used.system) / 1000;
    // This whole process, every thread of it, idle: a spinning worker alone would use ~300 ms.
    expect(busyMs).toBeLessThan(0.5 * (performance.now() - wall));
    await lstm.dispose();
  });
});

describe('the worker boundary', () => {
  it('copies inputs by default and hands them over with { transfer: true }', async () => {
    const runtime = await createRuntime({ threads: 1 });
    const a = new Float32Array([1, 2]);
    const b = new Float32Array([3, 4]);
    await runtime.matmul(a, b, 1, 2, 1);
    expect(a.length).toBe(2);
    const c = await runtime.matmul(a, b, 1, 2, 1, { transfer: true });
    expect(Array.from(c)).toEqual([11]);
    expect(a.length).toBe(0);
    await runtime.dispose();
  });

  it('uses a wasm module given by the caller', async () => {
    const module = await WebAssembly.compile(await readFile(new URL('../../dist/wasm/seqwasm-simd.wasm', import.meta.url)));
    const runtime = await createRuntime({ threads: 1, wasm: { simd: module } });
    expect(Array.from(await runtime.matmul(new Float32Array([2]), new Float32Array([5]), 1, 1, 1))).toEqual([10]);
    await runtime.dispose();
  });
});

describe('createRuntime options', () => {
  it('rejects unknown options and invalid values with ConfigError', async () => {
    await expect(createRuntime({ thread: 2 } as object)).rejects.toThrow("unknown option 'thread'");
    await expect(createRuntime({ threads: 0 })).rejects.toThrow(ConfigError);
    await expect(createRuntime({ threads: 2.5 })).rejects.toThrow(/threads must be 'auto' or a whole number/);
    await expect(createRuntime({ worker: 'yes' } as object)).rejects.toThrow(ConfigError);
    await expect(createRuntime({ threads: 1, wasm: { simd: new Uint8Array(4) } } as object)).rejects.toThrow(/must be a compiled WebAssembly.Module/);
  });

  it("picks threads with 'auto' on a multi-core machine and says why", async () => {
    const runtime = await createRuntime({ threads: 'auto' });
    const { availableParallelism } = await import('node:os');
    const cores = availableParallelism();
    expect(runtime.info.threads).toBe(cores);
    expect(runtime.info.flavour).toBe(cores > 1 ? 'threads' : 'simd');
    expect(runtime.info.reason).toMatch(cores > 1 ? /shared memory available/ : /one core/);
    await runtime.dispose();
  });
});
