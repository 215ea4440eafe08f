// Which wasm build to run: `threads` where shared memory and blocking waits work, else `simd`;
// their relaxed-SIMD twins (fused multiply-add) only when asked for and supported.
import { ConfigError } from './errors.js';

export type Flavour = 'simd' | 'threads' | 'relaxed' | 'relaxedThreads';

/** What the current thread of the current runtime can do, as probed by its platform. */
export interface Capabilities {
  /** Whether WebAssembly SIMD validates; every build needs it. */
  simd: boolean;
  /** Whether relaxed SIMD validates (the opt-in fused multiply-add builds); if not, why. */
  relaxedSimd: true | string;
  /** Whether a shared WebAssembly.Memory can be created here; if not, why. */
  sharedMemory: true | string;
  /** Whether this thread may block on atomics (not a browser's main thread); if not, why. */
  canBlock: true | string;
  /** Logical cores. */
  cores: number;
}

export interface Choice {
  flavour: Flavour;
  threads: number;
  reason: string;
}

export const MAX_THREADS = 64;

export function chooseFlavour(requested: number | 'auto', caps: Capabilities, relaxed = false): Choice {
  const base = chooseThreads(requested, caps);
  if (!relaxed) return base;
  if (caps.relaxedSimd !== true) return { ...base, reason: `${base.reason}; relaxed SIMD was asked for, but ${caps.relaxedSimd}` };
  return { ...base, flavour: base.flavour === 'threads' ? 'relaxedThreads' : 'relaxed', reason: `${base.reason}; relaxed SIMD (fused multiply-add)` };
}

/** Whether a flavour runs a thread pool. */
export const pooled = (flavour: Flavour): boolean => flavour === 'threads' || flavour === 'relaxedThreads';

function chooseThreads(requested: number | 'auto', caps: Capabilities): Choice {
  if (!caps.simd) throw new ConfigError('this runtime does not support WebAssembly SIMD, which seqwasm needs');
  const threads = requested === 'auto' ? Math.min(caps.cores, MAX_THREADS) : requested;
  if (threads <= 1) {
    return { flavour: 'simd', threads: 1, reason: requested === 'auto' ? 'one core available' : 'one thread requested' };
  }
  if (caps.sharedMemory !== true) return { flavour: 'simd', threads: 1, reason: caps.sharedMemory };
  if (caps.canBlock !== true) return { flavour: 'simd', threads: 1, reason: caps.canBlock };
  return { flavour: 'threads', threads, reason: `shared memory available, ${threads} threads` };
}

export function threadsOption(value: unknown): number | 'auto' {
  if (value === undefined || value === 'auto') return 'auto';
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_THREADS) return value;
  throw new ConfigError(`threads must be 'auto' or a whole number from 1 to ${MAX_THREADS}, got ${String(value)}`);
}

/** A tiny module using one v128 instruction: validates only where wasm SIMD is supported. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

export function simdSupported(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}

export function relaxedOption(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value === 'boolean') return value;
  throw new ConfigError(`relaxedSimd must be true or false, got ${String(value)}`);
}

/** A tiny module whose one function is `f32x4.relaxed_madd` of three constants. */
function relaxedProbe(): Uint8Array<ArrayBuffer> {
  const constant = [253, 12, ...new Array(16).fill(0)];
  const body = [0, ...constant, ...constant, ...constant, 253, 133, 2, 11];
  return new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, body.length + 2, 1, body.length, ...body]);
}

export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(relaxedProbe());
}

export function sharedMemorySupported(): boolean {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}
