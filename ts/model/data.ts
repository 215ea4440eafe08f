// Turns what users pass (nested arrays, typed arrays with a shape) into flat typed arrays with
// a shape, checking rank, element type and finiteness on the caller's side with typed errors.
import { DTypeError, NumericError, ShapeError } from '../errors.js';
import { describe } from '../validate.js';
import type { TensorData, TensorLike } from './types.js';

export function toTensor(op: string, name: string, value: TensorLike): TensorData {
  if (value && typeof value === 'object' && !Array.isArray(value) && 'data' in value && 'shape' in value) {
    const { data, shape } = value;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ShapeError(`${op}: ${name}.shape must be an array of whole numbers, got ${JSON.stringify(shape)}`);
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (!(data instanceof Float32Array || data instanceof Uint32Array || data instanceof Int32Array)) {
      throw new DTypeError(`${op}: ${name}.data must be a Float32Array, Uint32Array or Int32Array, got ${describe(data)}`);
    }
    if (data.length !== size) throw new ShapeError(`${op}: ${name} has shape [${shape.join(', ')}] = ${size} values but holds ${data.length}`);
    if (data instanceof Int32Array) {
      const negative = data.findIndex((v) => v < 0);
      if (negative >= 0) throw new DTypeError(`${op}: ${name} holds the negative id ${data[negative]} at index ${negative}`);
      return { data: new Uint32Array(data.buffer, data.byteOffset, data.length), shape: [...shape] };
    }
    if (data instanceof Float32Array) finite(op, name, data);
    return { data, shape: [...shape] };
  }
  if (!Array.isArray(value)) throw new DTypeError(`${op}: ${name} must be a { data, shape } tensor or nested arrays, got ${describe(value)}`);
  const shape: number[] = [];
  for (let level: unknown = value; Array.isArray(level); level = level[0]) shape.push(level.length);
  const flat = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let at = 0;
  const walk = (node: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof node !== 'number') throw new DTypeError(`${op}: ${name}${path} must be a number, got ${describe(node)}`);
      flat[at++] = node;
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new ShapeError(`${op}: ${name}${path} must be an array of ${shape[depth]} (the arrays are ragged), got ${describe(node)}`);
    }
    node.forEach((child, i) => walk(child, depth + 1, `${path}[${i}]`));
  };
  walk(value, 0, '');
  finite(op, name, flat);
  return { data: flat, shape };
}

function finite(op: string, name: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new NumericError(`${op}: ${name} holds ${data[i]} at index ${i}`);
  }
}


/** Lengths as a Uint32Array of `batch` values, each at most `steps`. */
export function toLengths(op: string, lengths: ArrayLike<number> | undefined, batch: number, steps: number): Uint32Array | undefined {
  if (lengths === undefined) return undefined;
  const out = Uint32Array.from(Array.from(lengths));
  if (out.length !== batch || Array.from(lengths).some((l, i) => !Number.isSafeInteger(l) || l < 0 || l > steps || out[i] !== l)) {
    throw new ShapeError(`${op}: lengths must be ${batch} whole numbers of at most ${steps} steps, got [${Array.from(lengths).join(', ')}]`);
  }
  return out;
}
