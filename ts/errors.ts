// Typed errors of the public API. Each class carries an explicit `name` (bundlers may rename
// classes), which is how errors from wasm and from a worker find their class again.
import * as Comlink from 'comlink';

export class SeqwasmError extends Error {
  override name = 'SeqwasmError';
}
/** An input or operand has the wrong rank, length or dimension. */
export class ShapeError extends SeqwasmError {
  override name = 'ShapeError';
}
/** An input has the wrong element type (for example a plain array where a Float32Array is needed). */
export class DTypeError extends SeqwasmError {
  override name = 'DTypeError';
}
/** An input or a result holds NaN or an infinity. */
export class NumericError extends SeqwasmError {
  override name = 'NumericError';
}
/** An option is unknown or has an invalid value, or the runtime cannot provide what was asked. */
export class ConfigError extends SeqwasmError {
  override name = 'ConfigError';
}
/** A saved model is corrupt, truncated or of an unknown version. */
export class ModelFormatError extends SeqwasmError {
  override name = 'ModelFormatError';
}
/** The runtime or model was disposed and can no longer be used. */
export class DisposedError extends SeqwasmError {
  override name = 'DisposedError';
}
/** The worker that held the runtime failed or exited. */
export class WorkerError extends SeqwasmError {
  override name = 'WorkerError';
}

/** A pool's queue is full: the request was refused at once instead of waiting unboundedly. */
export class QueueFullError extends SeqwasmError {
  override name = 'QueueFullError';
}

const classes: Record<string, new (message: string) => SeqwasmError> = {
  SeqwasmError, ShapeError, DTypeError, NumericError, ConfigError, ModelFormatError, DisposedError, WorkerError, QueueFullError,
};

/** Rebuilds the typed error named by `name`, or a plain Error for names we do not own. */
export function errorFromName(name: string, message: string): Error {
  const Class = classes[name];
  if (Class) return new Class(message);
  const error = new Error(message);
  error.name = name;
  return error;
}

/** Errors thrown by the wasm boundary carry the class name in `name`. */
export function fromWasm(error: unknown): Error {
  if (error instanceof SeqwasmError) return error;
  if (error instanceof Error) return errorFromName(error.name, error.message);
  return new SeqwasmError(String(error));
}

/** Runs a call into wasm, turning what it throws into the facade's typed errors. */
export function wasmCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw fromWasm(error);
  }
}

/** Makes errors thrown in a worker arrive on the caller's side as the same classes. */
export function installErrorTransfer(): void {
  const base = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<{ value: unknown }, unknown>;
  if ((base as { seqwasm?: boolean }).seqwasm) return;
  const handler: Comlink.TransferHandler<{ value: unknown }, { name: string; message: string } | unknown> & { seqwasm: boolean } = {
    seqwasm: true,
    canHandle: base.canHandle,
    serialize({ value }) {
      if (value instanceof Error) return [{ name: value.name, message: value.message }, []];
      return base.serialize({ value });
    },
    deserialize(wire) {
      const { name, message } = (wire ?? {}) as { name?: unknown; message?: unknown };
      if (typeof name === 'string' && typeof message === 'string') throw errorFromName(name, message);
      return base.deserialize(wire);
    },
  };
  Comlink.transferHandlers.set('throw', handler);
}
