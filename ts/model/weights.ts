// Moving a wasm model's weights (and its optimizer's state) to and from the saved format; the
// same for every kind of model, since their handles share these methods.
import { ModelFormatError, fromWasm, wasmCall } from '../errors.js';
import type { SavedModel } from './format.js';

/** What a wasm model handle (Model, Seq2Seq) offers for saving and loading. */
export interface WeightHandle {
  parameterNames(): string[];
  parameterShapes(): string;
  parameter(name: string): Float32Array;
  setParameter(name: string, values: Float32Array): void;
  optimizerSlots(): number;
  optimizerState(index: number, slot: number): Float32Array;
  setOptimizerState(steps: number, flat: Float32Array): void;
  readonly optimizerSteps: number;
}

/** Every parameter, and the optimizer's state when `withOptimizer` (after at least one update). */
export function savedTensors(handle: WeightHandle, withOptimizer: boolean): Pick<SavedModel, 'tensors' | 'optimizerSteps'> {
  const shapes = JSON.parse(handle.parameterShapes()) as number[][];
  const names = handle.parameterNames();
  const tensors = names.map((name, i) => ({ name, shape: shapes[i], data: handle.parameter(name) }));
  const steps = handle.optimizerSteps;
  if (withOptimizer && steps > 0) {
    names.forEach((name, i) => {
      for (let k = 0; k < handle.optimizerSlots(); k++) tensors.push({ name: `optimizer/${name}/${k}`, shape: shapes[i], data: handle.optimizerState(i, k) });
    });
  }
  return { tensors, optimizerSteps: withOptimizer ? steps : undefined };
}

/**
 * Sets every parameter from a saved file, checking names and shapes, then compiles with the
 * saved options and restores the optimizer's state; every failure is a ModelFormatError.
 */
export function restoreTensors(handle: WeightHandle, saved: SavedModel, compile: (options: unknown) => void): void {
  const names = handle.parameterNames();
  const shapes = JSON.parse(handle.parameterShapes()) as number[][];
  const optimizer = new Map(saved.tensors.filter((t) => t.name.startsWith('optimizer/')).map((t) => [t.name, t]));
  const given = new Map(saved.tensors.filter((t) => !t.name.startsWith('optimizer/')).map((t) => [t.name, t]));
  names.forEach((name, i) => {
    const t = given.get(name);
    if (!t) throw new ModelFormatError(`not a valid seqwasm model: tensor ${name} is missing`);
    if (t.shape.join() !== shapes[i].join()) throw new ModelFormatError(`not a valid seqwasm model: tensor ${name} has shape [${t.shape}], the topology needs [${shapes[i]}]`);
    handle.setParameter(name, t.data);
    given.delete(name);
  });
  if (given.size) throw new ModelFormatError(`not a valid seqwasm model: tensors the topology does not have: ${[...given.keys()].join(', ')}`);
  if (saved.compile !== undefined) {
    try {
      compile(saved.compile);
    } catch (error) {
      throw new ModelFormatError(`not a valid seqwasm model: its compile options are rejected: ${(error as Error).message}`);
    }
  }
  if (saved.optimizerSteps !== undefined) {
    if (saved.compile === undefined) throw new ModelFormatError('not a valid seqwasm model: it has optimizer state but no compile options');
    const slots = handle.optimizerSlots();
    const parts = saved.optimizerSteps === 0 ? [] : names.flatMap((name) => Array.from({ length: slots }, (_, k) => {
      const t = optimizer.get(`optimizer/${name}/${k}`);
      if (!t) throw new ModelFormatError(`not a valid seqwasm model: optimizer state optimizer/${name}/${k} is missing`);
      optimizer.delete(t.name);
      return t.data;
    }));
    if (optimizer.size) throw new ModelFormatError(`not a valid seqwasm model: optimizer state the compiled optimizer does not have: ${[...optimizer.keys()].join(', ')}`);
    const flat = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    parts.reduce((at, p) => (flat.set(p, at), at + p.length), 0);
    try {
      handle.setOptimizerState(saved.optimizerSteps, flat);
    } catch (error) {
      throw new ModelFormatError(`not a valid seqwasm model: its optimizer state is rejected: ${fromWasm(error).message}`);
    }
  } else if (optimizer.size) {
    throw new ModelFormatError('not a valid seqwasm model: optimizer state without optimizer_steps');
  }
}

/** Every parameter by name (copies out of wasm memory). */
export function readWeights(handle: WeightHandle): Record<string, Float32Array> {
  return Object.fromEntries(handle.parameterNames().map((name) => [name, handle.parameter(name)]));
}

/** Sets the named parameters; an unknown name or a wrong size is a typed error. */
export function writeWeights(handle: WeightHandle, weights: Record<string, Float32Array>): void {
  for (const [name, values] of Object.entries(weights)) wasmCall(() => handle.setParameter(name, values));
}
