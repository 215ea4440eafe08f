// Which wasm build to run: `threads` where shared memory and blocking waits work, else `simd`.
import { ConfigError } from './errors.js';

export type Flavour = 'simd' | 'threads';

/** What the current thread of the current runtime can do, as probed by its platform. */
export interface Capabilities {
  /** Whether WebAssembly SIMD validates; every build needs it. */
  simd: boolean;
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

export function chooseFlavour(requested: number | 'auto', caps: Capabilities): Choice {
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

export function sharedMemorySupported(): boolean {
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}
