// The public functions of a platform's entry point (ts/node/index.ts, ts/browser/index.ts),
// bound to that platform. Nothing here runs until a function is called.
import type { LayerSpec, Model, ModelOptions, Runtime, RuntimeOptions, Seq2SeqConfig, Seq2SeqModel } from './api.js';
import type { Platform } from './platform.js';
import { createPool as createWorkerPool, type Pool, type PoolOptions } from './pool.js';
import { createRuntime as create, ownModel } from './runtime.js';

export function entryPoints(platform: Platform) {
  /** Starts a runtime: in a worker by default, or inline with `{ worker: false }`. */
  function createRuntime(options?: RuntimeOptions): Promise<Runtime> {
    return create(platform, options);
  }

  /** A model of these layers in its own runtime (a worker by default; `{ worker: false }` inline). */
  async function sequential(layers: LayerSpec[], options: ModelOptions = {}): Promise<Model> {
    const { input, seed, ...placement } = options;
    return ownModel(await createRuntime(placement), (runtime) => runtime.sequential(layers, { input, seed }));
  }

  /** A model saved by `model.save()`, in its own runtime. */
  async function loadModel(bytes: Uint8Array | ArrayBuffer, options: RuntimeOptions = {}): Promise<Model> {
    return ownModel(await createRuntime(options), (runtime) => runtime.loadModel(bytes));
  }

  /** An encoder-decoder in its own runtime (a worker by default; `{ worker: false }` inline). */
  async function encoderDecoder(config: Seq2SeqConfig, options: RuntimeOptions & { seed?: number } = {}): Promise<Seq2SeqModel> {
    const { seed, ...placement } = options;
    return ownModel(await createRuntime(placement), (runtime) => runtime.encoderDecoder(config, { seed }));
  }

  /** An encoder-decoder saved by its `save()`, in its own runtime. */
  async function loadSeq2Seq(bytes: Uint8Array | ArrayBuffer, options: RuntimeOptions = {}): Promise<Seq2SeqModel> {
    return ownModel(await createRuntime(options), (runtime) => runtime.loadSeq2Seq(bytes));
  }

  /** Workers that each hold a copy of a saved model, for concurrent inference. */
  function createPool(options: PoolOptions): Promise<Pool> {
    return createWorkerPool(createRuntime, options);
  }

  return { createRuntime, sequential, loadModel, encoderDecoder, loadSeq2Seq, createPool };
}
