// The engine: one wasm instance (and, for the threads build, its pool of threads) on the
// thread that runs it, whether that is a worker or the caller's own thread.
import { ConfigError, DisposedError, fromWasm } from './errors.js';
import { chooseFlavour, pooled, relaxedOption, threadsOption, type Choice, type Flavour } from './flavour.js';
import { importGlue, type Glue } from './glue.js';
import type { EngineInfo, EngineOptions } from './api.js';
import type { Platform, PoolThread } from './platform.js';
import * as check from './validate.js';
import type { ModelClass } from './model/core.js';
import type { Seq2SeqClass } from './seq2seq/core.js';

/**
 * How long the pool's workers keep looking for work, after a call starts and after the last work
 * they found, before they sleep: a sleeping worker takes about as long to wake as a streaming
 * step's whole product, and 2 ms covers the gap between calls that arrive back to back. The cost:
 * each worker's core stays busy through a call, its serial parts included, and 2 ms beyond.
 */
const SPIN_MS = 2;

export class Engine {
  #disposed = false;

  private constructor(
    readonly info: EngineInfo,
    private readonly glue: Glue,
    private readonly pool: PoolThread[],
    private readonly memory: WebAssembly.Memory,
  ) {}

  /** Loads the flavour `choice` names; by default it probes the platform and chooses. */
  static async load(
    platform: Platform,
    options: EngineOptions = {},
    choice: Choice = choose(platform, options),
  ): Promise<Engine> {
    const module = options.wasm?.[choice.flavour] ?? (await platform.loadModule(choice.flavour));
    if (!(module instanceof WebAssembly.Module)) {
      throw new ConfigError(`wasm.${choice.flavour} must be a compiled WebAssembly.Module`);
    }
    const info: EngineInfo = { ...choice, platform: platform.name };
    if (!pooled(choice.flavour)) {
      const glue = await importGlue(choice.flavour);
      const exports = await glue.default({ module_or_path: module });
      return new Engine(info, glue, [], (exports as unknown as { memory: WebAssembly.Memory }).memory);
    }
    const glue = await importGlue(choice.flavour as 'threads' | 'relaxedThreads');
    const exports = await glue.default({ module_or_path: module });
    const memory = (exports as unknown as { memory: WebAssembly.Memory }).memory;
    // This thread is the pool's first thread (it runs the calls); the others are workers.
    const started = await Promise.allSettled(
      Array.from({ length: choice.threads - 1 }, () => platform.spawnPoolThread({ flavour: choice.flavour, module, memory })),
    );
    const pool = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      pool.forEach((t) => t.terminate());
      throw new ConfigError(`could not start the thread pool: ${failed.reason?.message ?? failed.reason}`);
    }
    try {
      glue.poolStart(choice.threads, SPIN_MS);
    } catch (error) {
      pool.forEach((t) => t.terminate());
      throw fromWasm(error);
    }
    return new Engine(info, glue, pool, memory);
  }

  /** `C = A·B` for row-major `A [m, k]` and `B [k, n]`. */
  matmul(a: unknown, b: unknown, m: unknown, k: unknown, n: unknown): Float32Array {
    this.#live();
    const op = 'matmul';
    const [rows, inner, cols] = [check.dimension(op, 'm', m), check.dimension(op, 'k', k), check.dimension(op, 'n', n)];
    const left = check.float32(op, 'a', a);
    const right = check.float32(op, 'b', b);
    check.length(op, 'a', left, [rows, inner]);
    check.length(op, 'b', right, [inner, cols]);
    check.finite(op, 'a', left);
    check.finite(op, 'b', right);
    try {
      return this.glue.matmul(left, right, rows, inner, cols);
    } catch (error) {
      throw fromWasm(error);
    }
  }

  /** The size of the instance's linear memory (it grows, and never shrinks). */
  wasmBytes = (): number => this.memory.buffer.byteLength;

  /** The wasm model class of this engine's instance. */
  get ModelClass(): ModelClass {
    this.#live();
    return this.glue.Model as ModelClass;
  }

  /** The wasm encoder-decoder class of this engine's instance. */
  get Seq2SeqClass(): Seq2SeqClass {
    this.#live();
    return this.glue.Seq2Seq as Seq2SeqClass;
  }

  dispose(): void {
    this.#disposed = true;
    this.pool.forEach((t) => t.terminate());
  }

  #live(): void {
    if (this.#disposed) throw new DisposedError('this runtime was disposed');
  }
}

/**
 * wasm-bindgen's glue holds one instance per flavour per JS realm, so inline engines are
 * shared: the first load on a thread decides its thread count.
 */
const shared = new Map<Flavour, Promise<Engine>>();

function choose(platform: Platform, options: EngineOptions): Choice {
  return chooseFlavour(threadsOption(options.threads), platform.capabilities(), relaxedOption(options.relaxedSimd));
}

export async function sharedEngine(platform: Platform, options: EngineOptions): Promise<Engine> {
  const choice = choose(platform, options);
  const flavour = choice.flavour;
  let engine = shared.get(flavour);
  if (!engine) {
    engine = Engine.load(platform, options, choice);
    shared.set(flavour, engine);
    engine.catch(() => shared.delete(flavour));
  }
  return engine;
}
