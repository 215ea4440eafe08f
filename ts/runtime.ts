// One API, two placements: the engine inline on the caller's thread, or in a worker behind
// Comlink. Both validate the same way (in the engine) and throw the same typed errors.
import * as Comlink from 'comlink';
import type { CallOptions, EngineOptions, Runtime, RuntimeInfo, RuntimeOptions } from './api.js';
import { sharedEngine, type Engine } from './engine.js';
import { ConfigError, DisposedError, WorkerError, installErrorTransfer } from './errors.js';
import type { HostApi } from './host.js';
import type { HostWorker, Platform } from './platform.js';
import { ModelCore, type Topology } from './model/core.js';
import { Model } from './model/model.js';
import { knownKeys } from './validate.js';
import type { LayerSpec, SequentialOptions } from './model/types.js';
import { ModelFormatError } from './errors.js';
import { Seq2SeqCore } from './seq2seq/core.js';
import { Seq2SeqModel } from './seq2seq/model.js';
import type { Seq2SeqConfig } from './seq2seq/types.js';

const RUNTIME_OPTIONS = ['worker', 'threads', 'relaxedSimd', 'wasm'];
const CALL_OPTIONS = ['transfer'];

export async function createRuntime(platform: Platform, options: RuntimeOptions = {}): Promise<Runtime> {
  knownKeys('createRuntime options', options, RUNTIME_OPTIONS);
  if (options.worker !== undefined && typeof options.worker !== 'boolean') {
    throw new ConfigError(`worker must be true or false, got ${String(options.worker)}`);
  }
  const engineOptions: EngineOptions = { threads: options.threads, relaxedSimd: options.relaxedSimd, wasm: options.wasm };
  if (options.worker === false) return new InlineRuntime(await sharedEngine(platform, engineOptions));
  installErrorTransfer();
  const host = platform.spawnHost();
  const runtime = new WorkerRuntime(host);
  try {
    await runtime.init(engineOptions);
  } catch (error) {
    host.terminate();
    throw error;
  }
  return runtime;
}

/** The topology JSON of `sequential`'s arguments, checked for shape before it reaches wasm. */
function topology(layers: LayerSpec[], options: SequentialOptions = {}): { topology: Topology; seed: number } {
  knownKeys('sequential options', options, ['input', 'seed']);
  if (!Array.isArray(layers) || layers.length === 0) throw new ConfigError('sequential needs an array of at least one layer');
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ConfigError(`sequential: seed must be a whole number from 0 to 2^32-1, got ${String(seed)}`);
  return { topology: options.input === undefined ? { layers } : { input: options.input, layers }, seed };
}

function seq2seqSeed(options: { seed?: number } = {}): number {
  knownKeys('encoderDecoder options', options, ['seed']);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ConfigError(`encoderDecoder: seed must be a whole number from 0 to 2^32-1, got ${String(seed)}`);
  return seed;
}

function seq2seqConfig(config: Seq2SeqConfig): Seq2SeqConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new ConfigError('encoderDecoder needs a configuration object (source, target, encoder, decoder, attention, start_token, end_token)');
  return config;
}

function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new ModelFormatError(`loadModel needs a Uint8Array or an ArrayBuffer, got ${value === null ? 'null' : typeof value}`);
}

class InlineRuntime implements Runtime {
  readonly info: RuntimeInfo;
  #disposed = false;

  constructor(private readonly engine: Engine) {
    this.info = { ...engine.info, placement: 'inline' };
  }

  async matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, options?: CallOptions): Promise<Float32Array> {
    this.#live();
    knownKeys('matmul options', options, CALL_OPTIONS);
    return this.engine.matmul(a, b, m, k, n);
  }

  async sequential(layers: LayerSpec[], options?: SequentialOptions): Promise<Model> {
    this.#live();
    const { topology: t, seed } = topology(layers, options);
    return this.#model(ModelCore.create(this.engine.ModelClass, t, seed, this.engine.wasmBytes));
  }

  async loadModel(bytes: Uint8Array | ArrayBuffer): Promise<Model> {
    this.#live();
    return this.#model(ModelCore.load(this.engine.ModelClass, bytesOf(bytes), this.engine.wasmBytes));
  }

  #model(core: ModelCore): Model {
    return new Model(core, async (call) => call(), false);
  }

  async encoderDecoder(config: Seq2SeqConfig, options?: { seed?: number }): Promise<Seq2SeqModel> {
    this.#live();
    const seed = seq2seqSeed(options);
    return new Seq2SeqModel(Seq2SeqCore.create(this.engine.Seq2SeqClass, seq2seqConfig(config), seed, this.engine.wasmBytes), async (call) => call(), false);
  }

  async loadSeq2Seq(bytes: Uint8Array | ArrayBuffer): Promise<Seq2SeqModel> {
    this.#live();
    return new Seq2SeqModel(Seq2SeqCore.load(this.engine.Seq2SeqClass, bytesOf(bytes), this.engine.wasmBytes), async (call) => call(), false);
  }

  async dispose(): Promise<void> {
    // The engine is shared by every inline runtime on this thread; only this handle ends.
    this.#disposed = true;
  }

  #live(): void {
    if (this.#disposed) throw new DisposedError('this runtime was disposed');
  }
}

class WorkerRuntime implements Runtime {
  info!: RuntimeInfo;
  readonly #proxy: Comlink.Remote<HostApi>;
  readonly #failed: Promise<never>;
  #failure: Error | undefined;
  #disposed = false;
  #pending = 0;

  constructor(private readonly host: HostWorker) {
    this.#proxy = Comlink.wrap<HostApi>(host.endpoint);
    // Comlink never settles a call whose worker died: every call also races this promise.
    this.#failed = new Promise<never>((_, reject) => {
      host.onFailure((error) => {
        this.#failure = new WorkerError(`the runtime's worker failed: ${error.message}`);
        reject(this.#failure);
      });
    });
    this.#failed.catch(() => {});
  }

  async init(options: EngineOptions): Promise<void> {
    const info = await this.#call(() => this.#proxy.init(options));
    this.info = { ...info, placement: 'worker' };
  }

  async matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, options?: CallOptions): Promise<Float32Array> {
    knownKeys('matmul options', options, CALL_OPTIONS);
    this.#live();
    const buffers = options?.transfer ? transferables(a, b) : [];
    return this.#call(() => this.#proxy.matmul(Comlink.transfer(a, buffers), b, m, k, n));
  }

  async sequential(layers: LayerSpec[], options?: SequentialOptions): Promise<Model> {
    this.#live();
    const { topology: t, seed } = topology(layers, options);
    return this.#model(await this.#call(() => this.#proxy.createModel(t, seed)));
  }

  async loadModel(bytes: Uint8Array | ArrayBuffer): Promise<Model> {
    this.#live();
    const data = bytesOf(bytes);
    return this.#model(await this.#call(() => this.#proxy.loadModel(data)));
  }

  #model(core: Comlink.Remote<ModelCore>): Model {
    return new Model(core, (call) => this.#call(async () => call()), true);
  }

  async encoderDecoder(config: Seq2SeqConfig, options?: { seed?: number }): Promise<Seq2SeqModel> {
    this.#live();
    const seed = seq2seqSeed(options);
    const core = await this.#call(() => this.#proxy.createSeq2Seq(seq2seqConfig(config), seed));
    return new Seq2SeqModel(core, (call) => this.#call(async () => call()), true);
  }

  async loadSeq2Seq(bytes: Uint8Array | ArrayBuffer): Promise<Seq2SeqModel> {
    this.#live();
    const data = bytesOf(bytes);
    const core = await this.#call(() => this.#proxy.loadSeq2Seq(data));
    return new Seq2SeqModel(core, (call) => this.#call(async () => call()), true);
  }

  /** Ends the worker as a crash would (what the pool's tests use). @internal */
  kill(): void {
    this.host.kill();
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    if (!this.#failure) await this.#call(() => this.#proxy.dispose()).catch(() => {});
    this.#proxy[Comlink.releaseProxy]();
    this.host.terminate();
  }

  #live(): void {
    if (this.#disposed) throw new DisposedError('this runtime was disposed');
  }

  async #call<T>(call: () => Promise<T>): Promise<T> {
    if (this.#failure) throw this.#failure;
    if (this.#pending++ === 0) this.host.hold(true);
    try {
      return await Promise.race([call(), this.#failed]);
    } finally {
      if (--this.#pending === 0) this.host.hold(false);
    }
  }
}

/** The distinct, non-shared buffers behind the inputs (a buffer listed twice cannot be sent). */
function transferables(...arrays: unknown[]): Transferable[] {
  const buffers = new Set<ArrayBuffer>();
  for (const array of arrays) {
    if (ArrayBuffer.isView(array) && array.buffer instanceof ArrayBuffer) buffers.add(array.buffer);
  }
  return [...buffers];
}

/** A model that owns its runtime: disposing the model disposes the runtime. */
export async function ownModel<M extends Model | Seq2SeqModel>(runtime: Runtime, make: (runtime: Runtime) => Promise<M>): Promise<M> {
  try {
    const model = await make(runtime);
    model.disposeWith(() => runtime.dispose());
    return model;
  } catch (error) {
    await runtime.dispose();
    throw error;
  }
}
