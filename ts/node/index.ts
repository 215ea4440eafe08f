// seqwasm for Node.
import type { LayerSpec, Model, ModelOptions, Runtime, RuntimeOptions } from '../api.js';
import { createRuntime as create, ownModel } from '../runtime.js';
import { createPool as createWorkerPool, type Pool, type PoolOptions } from '../pool.js';
import { nodePlatform } from './platform.js';

export * from '../api.js';

/** Starts a runtime: in a worker_threads worker by default, or inline with `{ worker: false }`. */
export function createRuntime(options?: RuntimeOptions): Promise<Runtime> {
  return create(nodePlatform, options);
}

/** A model of these layers in its own runtime (a worker by default; `{ worker: false }` inline). */
export async function sequential(layers: LayerSpec[], options: ModelOptions = {}): Promise<Model> {
  const { input, seed, ...placement } = options;
  return ownModel(await createRuntime(placement), (runtime) => runtime.sequential(layers, { input, seed }));
}

/** A model saved by `model.save()`, in its own runtime. */
export async function loadModel(bytes: Uint8Array | ArrayBuffer, options: RuntimeOptions = {}): Promise<Model> {
  return ownModel(await createRuntime(options), (runtime) => runtime.loadModel(bytes));
}

/** Workers that each hold a copy of a saved model, for concurrent inference. */
export function createPool(options: PoolOptions): Promise<Pool> {
  return createWorkerPool(createRuntime, options);
}
