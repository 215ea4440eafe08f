// Browsers: module Workers, wasm fetched from dist/wasm, threads only when cross-origin isolated.
import type { Endpoint } from 'comlink';
import { ConfigError } from '../errors.js';
import { relaxedSimdSupported, sharedMemorySupported, simdSupported, type Capabilities, type Flavour } from '../flavour.js';
import type { HostWorker, Platform, PoolThread, PoolThreadInit } from '../platform.js';
import type { PoolThreadReply } from '../pool-thread.js';

const scope = globalThis as { crossOriginIsolated?: boolean; WorkerGlobalScope?: unknown; navigator?: { hardwareConcurrency?: number } };

function errorOf(event: Event): Error {
  const message = (event as ErrorEvent).message;
  return new Error(message || `${event.type} event from a worker (its script failed to load or threw)`);
}

export const browserPlatform: Platform = {
  name: 'browser',

  capabilities(): Capabilities {
    let sharedMemory: true | string = true;
    if (!scope.crossOriginIsolated) {
      sharedMemory = 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
    } else if (!sharedMemorySupported()) {
      sharedMemory = 'this browser cannot create a shared WebAssembly.Memory';
    }
    return {
      simd: simdSupported(),
      relaxedSimd: relaxedSimdSupported() || 'this browser does not support WebAssembly relaxed SIMD',
      sharedMemory,
      canBlock: scope.WorkerGlobalScope !== undefined || 'a browser main thread cannot block on atomics; the worker placement can use threads',
      cores: scope.navigator?.hardwareConcurrency ?? 1,
    };
  },

  async loadModule(flavour: Flavour): Promise<WebAssembly.Module> {
    const url = new URL(`../wasm/seqwasm-${flavour}.wasm`, import.meta.url);
    const response = await fetch(url);
    if (!response.ok) throw new ConfigError(`cannot fetch the ${flavour} wasm module at ${url}: HTTP ${response.status}`);
    return WebAssembly.compile(await response.arrayBuffer());
  },

  spawnHost(): HostWorker {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    const listeners: ((error: Error) => void)[] = [];
    worker.addEventListener('error', (event) => listeners.forEach((l) => l(errorOf(event))), { once: true });
    return {
      endpoint: worker as unknown as Endpoint,
      onFailure(listener) {
        listeners.push(listener);
      },
      hold() {},
      terminate: () => worker.terminate(),
      kill() {
        // A terminated browser worker sends no event: say so ourselves.
        worker.terminate();
        listeners.forEach((l) => l(new Error('the worker was terminated')));
      },
    };
  },

  spawnPoolThread(init: PoolThreadInit): Promise<PoolThread> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(new URL('./pool-thread.js', import.meta.url), { type: 'module' });
      worker.addEventListener('error', (event) => {
        worker.terminate();
        reject(errorOf(event));
      }, { once: true });
      worker.addEventListener('message', (event: MessageEvent<PoolThreadReply>) => {
        if (event.data.ok) resolve({ terminate: () => worker.terminate() });
        else {
          worker.terminate();
          reject(new Error(event.data.error));
        }
      }, { once: true });
      worker.postMessage(init);
    });
  },
};
