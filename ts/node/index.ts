// seqwasm for Node.
import type { Runtime, RuntimeOptions } from '../api.js';
import { createRuntime as create } from '../runtime.js';
import { nodePlatform } from './platform.js';

export * from '../api.js';

/** Starts a runtime: in a worker_threads worker by default, or inline with `{ worker: false }`. */
export function createRuntime(options?: RuntimeOptions): Promise<Runtime> {
  return create(nodePlatform, options);
}
