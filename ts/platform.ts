// What differs between Node and browsers, behind one interface: each platform folder
// (ts/node, ts/browser) implements it and nothing else in ts/ touches a platform API.
import type { Endpoint } from 'comlink';
import type { Capabilities, Flavour } from './flavour.js';

/** A worker that hosts a runtime and speaks Comlink. */
export interface HostWorker {
  endpoint: Endpoint;
  /** Called once if the worker fails or exits on its own. */
  onFailure(listener: (error: Error) => void): void;
  /** Keeps the process alive while calls are pending (Node); a no-op in browsers. */
  hold(pending: boolean): void;
  terminate(): void;
  /** Ends the worker as a crash would: its failure listeners fire. */
  kill(): void;
}

/** What a pool thread needs to join the engine's shared memory. */
export interface PoolThreadInit {
  flavour: Flavour;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
}

export interface PoolThread {
  terminate(): void;
}

export interface Platform {
  readonly name: 'node' | 'browser';
  capabilities(): Capabilities;
  loadModule(flavour: Flavour): Promise<WebAssembly.Module>;
  spawnHost(): HostWorker;
  /** Starts a pool thread; resolves once it runs inside the shared memory, rejects if it cannot. */
  spawnPoolThread(init: PoolThreadInit): Promise<PoolThread>;
}
