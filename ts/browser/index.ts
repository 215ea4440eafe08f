// seqwasm for browsers.
import type { Runtime, RuntimeOptions } from '../api.js';
import { createRuntime as create } from '../runtime.js';
import { browserPlatform } from './platform.js';

export * from '../api.js';

/** Starts a runtime: in a module Worker by default, or inline with `{ worker: false }`. */
export function createRuntime(options?: RuntimeOptions): Promise<Runtime> {
  return create(browserPlatform, options);
}
