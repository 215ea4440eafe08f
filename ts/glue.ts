// The wasm-bindgen glue of each flavour, loaded only when that flavour is chosen. Each flavour
// has its own copy: the glue holds the one instance of its module.
import type { Flavour } from './flavour.js';

export type SimdGlue = typeof import('../pkg/simd/seqwasm.js');
export type ThreadsGlue = typeof import('../pkg/threads/seqwasm.js');
export type Glue = SimdGlue | ThreadsGlue;

export function importGlue(flavour: 'threads' | 'relaxedThreads'): Promise<ThreadsGlue>;
export function importGlue(flavour: Flavour): Promise<Glue>;
export function importGlue(flavour: Flavour): Promise<Glue> {
  switch (flavour) {
    case 'simd':
      return import('../pkg/simd/seqwasm.js');
    case 'threads':
      return import('../pkg/threads/seqwasm.js');
    case 'relaxed':
      return import('../pkg/relaxed/seqwasm.js');
    case 'relaxedThreads':
      return import('../pkg/relaxedThreads/seqwasm.js');
  }
}
