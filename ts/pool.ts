// A pool of workers for inference: each holds its own copy of one saved model. A request goes
// to the least-loaded live worker; the queue is bounded (a full pool refuses at once with
// QueueFullError); a worker that dies rejects its requests with WorkerError and is replaced.
import type { Runtime, RuntimeOptions } from './api.js';
import { ConfigError, DisposedError, QueueFullError, WorkerError } from './errors.js';
import type { Model } from './model/model.js';
import type { PredictOptions, Tensor, TensorLike } from './model/types.js';
import { knownKeys } from './validate.js';

export interface PoolOptions {
  /** A model saved by `model.save()`; every worker loads it. */
  model: Uint8Array | ArrayBuffer;
  /** Workers (default 4). */
  size?: number;
  /** Requests waiting or running at once before new ones are refused (default 256 per worker). */
  maxQueue?: number;
  /** Threads per worker (default 1: the pool's parallelism is its workers). */
  threads?: RuntimeOptions['threads'];
  relaxedSimd?: RuntimeOptions['relaxedSimd'];
  wasm?: RuntimeOptions['wasm'];
}

export interface PoolStats {
  /** Requests in flight on each worker. */
  pending: number[];
  /** Workers replaced after a failure. */
  replaced: number;
}

export interface Pool {
  readonly size: number;
  predict(x: TensorLike, options?: PredictOptions): Promise<Tensor>;
  stats(): PoolStats;
  /** Ends worker `index` as a crash would (for testing failure handling). */
  crash(index: number): void;
  dispose(): Promise<void>;
}

interface Member {
  runtime: Runtime & { kill?: () => void };
  model: Model;
  pending: number;
  alive: boolean;
  replacing?: Promise<void>;
}

type Start = (options: RuntimeOptions) => Promise<Runtime>;

export async function createPool(start: Start, options: PoolOptions): Promise<Pool> {
  if (typeof options !== 'object' || options === null) throw new ConfigError('createPool needs options, at least { model: bytes }');
  knownKeys('createPool', options, ['model', 'size', 'maxQueue', 'threads', 'relaxedSimd', 'wasm']);
  const size = options.size ?? 4;
  if (!Number.isSafeInteger(size) || size < 1) throw new ConfigError(`createPool: size must be a whole number of at least 1, got ${String(size)}`);
  const maxQueue = options.maxQueue ?? 256 * size;
  if (!Number.isSafeInteger(maxQueue) || maxQueue < 1) throw new ConfigError(`createPool: maxQueue must be a whole number of at least 1, got ${String(maxQueue)}`);
  const bytes = options.model instanceof ArrayBuffer ? new Uint8Array(options.model) : options.model;
  const spawn = async (): Promise<Pick<Member, 'runtime' | 'model'>> => {
    const runtime = await start({ worker: true, threads: options.threads ?? 1, relaxedSimd: options.relaxedSimd, wasm: options.wasm });
    try {
      return { runtime, model: await runtime.loadModel(bytes) };
    } catch (error) {
      await runtime.dispose();
      throw error;
    }
  };
  const started = await Promise.allSettled(Array.from({ length: size }, spawn));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const members: Member[] = started.flatMap((s) => (s.status === 'fulfilled' ? [{ ...s.value, pending: 0, alive: true }] : []));
  if (failed) {
    await Promise.all(members.map((m) => m.runtime.dispose()));
    throw failed.reason;
  }
  let queued = 0;
  let replaced = 0;
  let disposed = false;

  const replace = (member: Member): void => {
    if (member.replacing || disposed) return;
    member.alive = false;
    member.replacing = (async () => {
      await member.runtime.dispose().catch(() => {});
      for (;;) {
        try {
          Object.assign(member, await spawn(), { alive: true });
          replaced++;
          return;
        } catch {
          if (disposed) return;
        }
      }
    })().finally(() => (member.replacing = undefined));
  };

  const leastLoaded = (): Member | undefined => members.filter((m) => m.alive).reduce<Member | undefined>((a, b) => (a && a.pending <= b.pending ? a : b), undefined);
  // Synchronous while a worker is alive, so that each request counts before the next one picks.
  const pick = async (): Promise<Member> => {
    for (;;) {
      await Promise.race(members.map((m) => m.replacing).filter(Boolean));
      if (disposed) throw new DisposedError('this pool was disposed');
      const member = leastLoaded();
      if (member) return member;
    }
  };

  return {
    size,
    async predict(x, predictOptions) {
      if (disposed) throw new DisposedError('this pool was disposed');
      if (queued >= maxQueue) throw new QueueFullError(`the pool's queue is full (${maxQueue} requests in flight); retry later or raise maxQueue`);
      queued++;
      let member: Member | undefined;
      try {
        member = leastLoaded() ?? (await pick());
        member.pending++;
        const index = members.indexOf(member);
        try {
          return await member.model.predict(x, predictOptions);
        } catch (error) {
          if (!(error instanceof WorkerError || error instanceof DisposedError) || disposed) throw error;
          replace(member);
          throw new WorkerError(`pool worker ${index} failed during this request (${(error as Error).message}); it is being replaced`);
        } finally {
          member.pending--;
        }
      } finally {
        queued--;
      }
    },
    stats: () => ({ pending: members.map((m) => m.pending), replaced }),
    crash(index) {
      members[index]?.runtime.kill?.();
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await Promise.all(members.map((m) => m.runtime.dispose().catch(() => {})));
    },
  };
}
