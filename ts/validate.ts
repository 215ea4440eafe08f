// Input checks shared by every entry point, so that bad input fails with a typed error that
// names the argument before anything reaches wasm.
import { ConfigError, DTypeError, NumericError, ShapeError } from './errors.js';

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an Array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  return typeof value === 'object' ? `a ${value.constructor?.name ?? 'object'}` : `${typeof value} ${String(value)}`;
}

export function float32(op: string, name: string, value: unknown): Float32Array {
  if (value instanceof Float32Array) return value;
  throw new DTypeError(`${op}: ${name} must be a Float32Array, got ${describe(value)}`);
}

export function dimension(op: string, name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value < 2 ** 31) return value;
  throw new ShapeError(`${op}: ${name} must be a whole number from 0 to 2^31-1, got ${describe(value)}`);
}

export function length(op: string, name: string, array: Float32Array, shape: number[]): void {
  const expected = shape.reduce((a, b) => a * b, 1);
  if (array.length !== expected) {
    throw new ShapeError(`${op}: ${name} must hold ${shape.join('×')} = ${expected} values, got ${array.length}`);
  }
}

export function finite(op: string, name: string, array: Float32Array): void {
  for (let i = 0; i < array.length; i++) {
    if (!Number.isFinite(array[i])) throw new NumericError(`${op}: ${name} holds ${array[i]} at index ${i}`);
  }
}

/** Options must be an object of known keys: an unknown one is a ConfigError, never ignored. */
export function knownKeys(what: string, value: unknown, known: string[]): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null) throw new ConfigError(`${what} must be an object, got ${describe(value)}`);
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length) throw new ConfigError(`${what}: unknown option ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${known.join(', ')})`);
}

/** An optional whole-number option of at least `min`, or its default. */
export function wholeNumber(what: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min) return value;
  throw new ConfigError(`${what} must be a whole number of at least ${min}, got ${describe(value)}`);
}
