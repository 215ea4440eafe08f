// The worker side of the worker placement: an engine exposed through Comlink.
import * as Comlink from 'comlink';
import type { EngineInfo, EngineOptions } from './api.js';
import { Engine } from './engine.js';
import { ConfigError, DisposedError, installErrorTransfer } from './errors.js';
import type { Platform } from './platform.js';
import { ModelCore, type Topology } from './model/core.js';
import { Seq2SeqCore } from './seq2seq/core.js';
import type { Seq2SeqConfig } from './seq2seq/types.js';

export interface HostApi {
  init(options: EngineOptions): Promise<EngineInfo>;
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array;
  createModel(topology: Topology, seed: number): ModelCore & Comlink.ProxyMarked;
  loadModel(bytes: Uint8Array): ModelCore & Comlink.ProxyMarked;
  createSeq2Seq(config: Seq2SeqConfig, seed: number): Seq2SeqCore & Comlink.ProxyMarked;
  loadSeq2Seq(bytes: Uint8Array): Seq2SeqCore & Comlink.ProxyMarked;
  dispose(): void;
}

export function serveHost(platform: Platform, endpoint: Comlink.Endpoint): void {
  installErrorTransfer();
  let engine: Engine | undefined;
  let disposed = false;
  const live = (): Engine => {
    if (disposed) throw new DisposedError('this runtime was disposed');
    if (!engine) throw new ConfigError('the worker was used before init');
    return engine;
  };
  const api: HostApi = {
    async init(options) {
      engine = await Engine.load(platform, options);
      return engine.info;
    },
    matmul(a, b, m, k, n) {
      const c = live().matmul(a, b, m, k, n);
      return Comlink.transfer(c, [c.buffer]);
    },
    createModel(topology, seed) {
      return Comlink.proxy(ModelCore.create(live().ModelClass, topology, seed, live().wasmBytes));
    },
    loadModel(bytes) {
      return Comlink.proxy(ModelCore.load(live().ModelClass, bytes, live().wasmBytes));
    },
    createSeq2Seq(config, seed) {
      return Comlink.proxy(Seq2SeqCore.create(live().Seq2SeqClass, config, seed, live().wasmBytes));
    },
    loadSeq2Seq(bytes) {
      return Comlink.proxy(Seq2SeqCore.load(live().Seq2SeqClass, bytes, live().wasmBytes));
    },
    dispose() {
      disposed = true;
      engine?.dispose();
    },
  };
  Comlink.expose(api, endpoint);
}
