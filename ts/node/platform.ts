// Node: worker_threads, wasm read from dist/wasm, shared memory always available.
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { ConfigError } from '../errors.js';
import { relaxedSimdSupported, sharedMemorySupported, simdSupported, type Capabilities, type Flavour } from '../flavour.js';
import type { HostWorker, Platform, PoolThread, PoolThreadInit } from '../platform.js';
import type { PoolThreadReply } from '../pool-thread.js';

// Workers would inherit the parent's Node options, and some stop a worker from starting
// (--input-type; any V8 flag, which Node refuses per worker). Our workers need none of them,
// and V8 flags apply to the whole process anyway.
const WORKER_OPTIONS: WorkerOptions = { execArgv: [] };

export const nodePlatform: Platform = {
  name: 'node',

  capabilities(): Capabilities {
    return {
      simd: simdSupported(),
      relaxedSimd: relaxedSimdSupported() || 'this Node does not enable it (Node 20 needs --experimental-wasm-relaxed-simd)',
      // Node's threads, main one included, may always block on atomics.
      sharedMemory: sharedMemorySupported() || 'this Node cannot create a shared WebAssembly.Memory',
      canBlock: true,
      cores: availableParallelism(),
    };
  },

  async loadModule(flavour: Flavour): Promise<WebAssembly.Module> {
    const url = new URL(`../wasm/seqwasm-${flavour}.wasm`, import.meta.url);
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(await readFile(url));
    } catch (error) {
      throw new ConfigError(`cannot read the ${flavour} wasm module at ${url.pathname}: ${(error as Error).message}`);
    }
    return WebAssembly.compile(bytes);
  },

  spawnHost(): HostWorker {
    const worker = new Worker(new URL('./worker.js', import.meta.url), WORKER_OPTIONS);
    // Idle workers must not keep the process alive; `hold` refs it while calls are pending.
    worker.unref();
    return {
      endpoint: nodeEndpoint(worker),
      onFailure(listener) {
        worker.once('error', listener);
        worker.once('exit', (code) => listener(new Error(`worker exited with code ${code}`)));
      },
      hold(pending) {
        if (pending) worker.ref();
        else worker.unref();
      },
      terminate() {
        worker.removeAllListeners('exit');
        void worker.terminate();
      },
      kill() {
        void worker.terminate();
      },
    };
  },

  spawnPoolThread(init: PoolThreadInit): Promise<PoolThread> {
    return new Promise((resolve, reject) => {
      // Referenced until it answers, so the process waits for it; unreferenced after.
      const worker = new Worker(new URL('./pool-thread.js', import.meta.url), WORKER_OPTIONS);
      const fail = (error: Error) => {
        void worker.terminate();
        reject(error);
      };
      worker.once('error', fail);
      worker.once('exit', (code) => fail(new Error(`pool thread exited with code ${code}`)));
      worker.once('message', (reply: PoolThreadReply) => {
        if (!reply.ok) return fail(new Error(reply.error));
        worker.removeAllListeners('exit');
        worker.unref();
        resolve({ terminate: () => void worker.terminate() });
      });
      worker.postMessage(init);
    });
  },
};
