// What every model class users hold shares: a core where the engine is (inline, or behind
// Comlink in the runtime's worker), calls that reject once disposed, and saving, weights,
// memory and disposal, which work the same for every kind of model.
import * as Comlink from 'comlink';
import { DisposedError } from '../errors.js';
import { knownKeys } from '../validate.js';
import type { History } from './types.js';

/** Runs a call on the core: directly (inline) or through the worker, failing if it dies. */
export type Caller = <T>(call: () => T | Promise<T>) => Promise<T>;

/** The calls every kind of model core answers. */
export interface HeldCore {
  save(includeOptimizer: boolean): Uint8Array;
  getWeights(): Record<string, Float32Array>;
  setWeights(weights: Record<string, Float32Array>): void;
  memoryUsage(): { wasmBytes: number };
  /** Stops a running fit after its current batch. */
  cancel(): void;
  dispose(): void;
}

export abstract class Held<C extends HeldCore> {
  #disposed = false;
  #onDispose: () => Promise<void> = async () => {};

  constructor(
    protected readonly core: C | Comlink.Remote<C>,
    protected readonly call: Caller,
    protected readonly remote: boolean,
  ) {}

  /** Makes `dispose` also end `release` (the runtime a top-level model owns). @internal */
  disposeWith(release: () => Promise<void>): void {
    this.#onDispose = release;
  }

  /**
   * The model as one safetensors file (its topology and compile options in the metadata). The
   * optimizer's state is included unless `includeOptimizer` is false, so that loading it can
   * resume training exactly where it stopped.
   */
  async save(options: { includeOptimizer?: boolean } = {}): Promise<Uint8Array> {
    knownKeys('save options', options, ['includeOptimizer']);
    return this.run(() => (this.core as HeldCore).save(options.includeOptimizer ?? true));
  }

  async getWeights(): Promise<Record<string, Float32Array>> {
    return this.run(() => (this.core as HeldCore).getWeights());
  }

  async setWeights(weights: Record<string, Float32Array>): Promise<void> {
    return this.run(() => (this.core as HeldCore).setWeights(weights));
  }

  /** The size of the wasm memory the model lives in (shared with the models of its runtime). */
  async memoryUsage(): Promise<{ wasmBytes: number }> {
    return this.run(() => (this.core as HeldCore).memoryUsage());
  }

  /** Frees the model's wasm memory; later calls reject with DisposedError. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.call(() => (this.core as HeldCore).dispose()).catch(() => {});
    if (this.remote) (this.core as Comlink.Remote<C>)[Comlink.releaseProxy]();
    await this.#onDispose();
  }

  /**
   * Runs `fit` so that `signal` stops it after the batch it is in. The fit reads a stop flag
   * after every batch. A core in a worker shares it where there is shared memory (`stop`);
   * otherwise, and inline, the core raises its own when told by a call. The call alone once
   * arrived three epochs late in a full test run: it travels on another port than the replies
   * to the progress callbacks, and training goes on as soon as a reply arrives.
   */
  protected async cancellable(signal: AbortSignal | undefined, fit: (stop: Int32Array | undefined) => Promise<History>): Promise<History> {
    if (signal?.aborted) return { epochs: [], stopped: 'cancelled' };
    const stop = this.remote && typeof SharedArrayBuffer === 'function' ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
    const abort = () => {
      if (stop) Atomics.store(stop, 0, 1);
      else void this.call(() => (this.core as HeldCore).cancel()).catch(() => {});
    };
    signal?.addEventListener('abort', abort, { once: true });
    try {
      return await fit(stop);
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  /** A callback as the core can call it: proxied through Comlink when the core is in a worker. */
  protected callback<F extends (...args: never[]) => unknown>(fn: F | undefined): F | undefined {
    return fn && this.remote ? Comlink.proxy(fn) : fn;
  }

  protected async run<T>(call: () => T | Promise<T>): Promise<Awaited<T>> {
    if (this.#disposed) throw new DisposedError('this model was disposed');
    return (await this.call(call)) as Awaited<T>;
  }
}
