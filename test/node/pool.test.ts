// A pool of workers answers every request correctly under load, refuses at once when its queue
// is full, and survives a worker dying mid-request: that request rejects, the worker is replaced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, QueueFullError, WorkerError, createPool, sequential, type Model } from '../../dist/node/index.js';

let reference: Model;
let saved: Uint8Array;

beforeAll(async () => {
  reference = await sequential([{ type: 'lstm', units: 8 }, { type: 'dense', units: 2 }], { input: 3, seed: 6, worker: false, threads: 1 });
  saved = await reference.save();
});
afterAll(() => reference.dispose());

const input = (i: number) => ({ data: Float32Array.from({ length: 2 * 4 * 3 }, (_, j) => Math.sin(i * 31 + j)), shape: [2, 4, 3] });

describe('createPool', () => {
  it('names missing and unknown options', async () => {
    await expect(createPool(undefined as never)).rejects.toThrow(ConfigError);
    await expect(createPool({ model: saved, workers: 2 } as never)).rejects.toThrow(/unknown option 'workers'/);
    await expect(createPool({ model: saved, size: 0 })).rejects.toThrow(/size/);
  });

  it('answers 1,000 concurrent requests correctly with 4 workers, spread over all of them', async () => {
    const pool = await createPool({ model: saved, size: 4 });
    let busiest = [0, 0, 0, 0];
    const results = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const p = pool.predict(input(i));
        const pending = pool.stats().pending;
        busiest = busiest.map((b, k) => Math.max(b, pending[k]));
        return p;
      }),
    );
    for (const i of [0, 1, 499, 998, 999]) {
      expect(Array.from(results[i].data)).toEqual(Array.from((await reference.predict(input(i))).data));
    }
    expect(results.every((r) => r.shape.join() === '2,2')).toBe(true);
    expect(busiest.every((b) => b > 0)).toBe(true);
    await pool.dispose();
  });

  it('refuses at once when its queue is full, and answers the rest', async () => {
    const pool = await createPool({ model: saved, size: 1, maxQueue: 3 });
    const settled = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => pool.predict(input(i))));
    const refused = settled.filter((s) => s.status === 'rejected');
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(3);
    expect(refused).toHaveLength(5);
    expect(refused.every((s) => (s as PromiseRejectedResult).reason instanceof QueueFullError)).toBe(true);
    await pool.dispose();
  });

  it('rejects the request of a worker that dies mid-request, and replaces the worker', async () => {
    const pool = await createPool({ model: saved, size: 2 });
    // A large batch keeps worker 0 busy while it is killed.
    const big = { data: new Float32Array(4096 * 64 * 3).fill(0.1), shape: [4096, 64, 3] };
    const doomed = pool.predict(big);
    const other = pool.predict(input(1));
    await new Promise((r) => setTimeout(r, 20));
    const victim = pool.stats().pending.findIndex((p, i) => p > 0 && i === 0);
    expect(victim).toBe(0);
    pool.crash(0);
    await expect(doomed).rejects.toThrow(WorkerError);
    await expect(doomed).rejects.toThrow(/pool worker 0 failed during this request/);
    expect((await other).shape).toEqual([2, 2]);
    // Every later request is answered, by the survivor and then by the replacement too.
    const later = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.predict(input(i))));
    expect(later).toHaveLength(50);
    await expect.poll(() => pool.stats().replaced).toBe(1);
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.predict(input(i))));
    expect(Array.from(after[3].data)).toEqual(Array.from((await reference.predict(input(3))).data));
    await pool.dispose();
  });
});
