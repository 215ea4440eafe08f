// The public types of seqwasm, shared by every platform's entry point.
import type { Flavour } from './flavour.js';

import type { Model } from './model/model.js';
import type { Seq2SeqModel } from './seq2seq/model.js';
import type { Seq2SeqConfig } from './seq2seq/types.js';
import type { LayerSpec, SequentialOptions } from './model/types.js';

export * from './errors.js';
export type * from './model/types.js';
export type * from './seq2seq/types.js';
export type { Flavour, Model, Seq2SeqModel };
export type { Pool, PoolOptions, PoolStats } from './pool.js';

/** Compiled modules given by the caller (edge runtimes cannot fetch or read files). */
export interface WasmModules {
  simd?: WebAssembly.Module;
  threads?: WebAssembly.Module;
  relaxed?: WebAssembly.Module;
  relaxedThreads?: WebAssembly.Module;
}

export interface EngineOptions {
  threads?: number | 'auto';
  relaxedSimd?: boolean;
  wasm?: WasmModules;
}

export interface EngineInfo {
  flavour: Flavour;
  threads: number;
  /** Why this flavour was chosen, e.g. why threads were not available. */
  reason: string;
  platform: 'node' | 'browser';
}

export interface RuntimeOptions {
  /** Run in a dedicated worker (default) so the caller's thread never blocks, or inline on it. */
  worker?: boolean;
  /** 'auto' (default: one per core) or a number; 1 selects the single-threaded simd build. */
  threads?: number | 'auto';
  /**
   * Use the relaxed-SIMD build where the runtime supports it (current Chromium does;
   * Node 20 only with --experimental-wasm-relaxed-simd), else fall back and say why in `info`.
   * It multiplies and adds in one fused step: faster, and its results differ from the default
   * build's in the last bits (and may differ between CPUs). Off by default.
   */
  relaxedSimd?: boolean;
  /** Compiled modules to use instead of loading dist/wasm (what edge runtimes need). */
  wasm?: WasmModules;
}

export interface RuntimeInfo extends EngineInfo {
  placement: 'worker' | 'inline';
}

export interface CallOptions {
  /**
   * Hand the inputs' buffers to the worker instead of copying them (worker placement only).
   * The caller's arrays are detached (length 0) afterwards.
   */
  transfer?: boolean;
}

export interface Runtime {
  readonly info: RuntimeInfo;
  /** `C = A·B` for row-major `A [m, k]` and `B [k, n]`; resolves to `C [m, n]`. */
  matmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number, options?: CallOptions): Promise<Float32Array>;
  /** A model of these layers (Keras' names and options) living in this runtime. */
  sequential(layers: LayerSpec[], options?: SequentialOptions): Promise<Model>;
  /** A model saved by `model.save()`, living in this runtime. */
  loadModel(bytes: Uint8Array | ArrayBuffer): Promise<Model>;
  /** An encoder-decoder (with attention, if configured) living in this runtime. */
  encoderDecoder(config: Seq2SeqConfig, options?: { seed?: number }): Promise<Seq2SeqModel>;
  /** An encoder-decoder saved by its `save()`, living in this runtime. */
  loadSeq2Seq(bytes: Uint8Array | ArrayBuffer): Promise<Seq2SeqModel>;
  /** Frees the wasm memory (and the worker); later calls reject with DisposedError. */
  dispose(): Promise<void>;
}

/** Options of `sequential` and `loadModel`: where the model's own runtime runs, and its seed. */
export interface ModelOptions extends RuntimeOptions, SequentialOptions {}
