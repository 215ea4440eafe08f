// The wasm-bindgen glue of each flavour, loaded only when that flavour is chosen.
import type { Flavour } from './flavour.js';

export type SimdGlue = typeof import('../pkg/simd/seqwasm.js');
export type ThreadsGlue = typeof import('../pkg/threads/seqwasm.js');
export type Glue = SimdGlue | ThreadsGlue;

export function importGlue(flavour: 'threads'): Promise<ThreadsGlue>;
export function importGlue(flavour: Flavour): Promise<Glue>;
export function importGlue(flavour: Flavour): Promise<Glue> {
  return flavour === 'threads' ? import('../pkg/threads/seqwasm.js') : import('../pkg/simd/seqwasm.js');
}
