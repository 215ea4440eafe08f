// The saved-model format: one safetensors file (https://github.com/huggingface/safetensors).
// An 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
// byte range, then the raw little-endian f32 data. seqwasm's own part (the format version, the
// topology, the compile options) is in the header's `__metadata__`, whose values are strings.
// Everything is checked on load: a corrupt, truncated or hostile file is a ModelFormatError,
// and nothing is allocated beyond the file's own size.
import { ModelFormatError } from '../errors.js';

export const FORMAT = 'seqwasm';
export const VERSION = 1;
/** A header larger than this is refused before it is read (safetensors uses 100 MB). */
const MAX_HEADER = 100_000_000;

export interface SavedModel {
  topology: unknown;
  compile?: unknown;
  /** Optimizer updates done; its state is in the tensors named `optimizer/<parameter>/<slot>`. */
  optimizerSteps?: number;
  tensors: { name: string; shape: number[]; data: Float32Array }[];
}

export function encode(model: SavedModel): Uint8Array {
  const header: Record<string, unknown> = {
    __metadata__: {
      format: FORMAT,
      version: String(VERSION),
      topology: JSON.stringify(model.topology),
      ...(model.compile === undefined ? {} : { compile: JSON.stringify(model.compile) }),
      ...(model.optimizerSteps === undefined ? {} : { optimizer_steps: String(model.optimizerSteps) }),
    },
  };
  let offset = 0;
  for (const t of model.tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so that the data starts 8-byte aligned, as the reference does.
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const bytes = new Uint8Array(8 + json.length + offset);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  let at = 8 + json.length;
  for (const t of model.tensors) {
    for (let i = 0; i < t.data.length; i++) view.setFloat32(at + 4 * i, t.data[i], true);
    at += t.data.length * 4;
  }
  return bytes;
}

export function decode(input: unknown): SavedModel {
  const bytes = asBytes(input);
  const fail = (reason: string): never => {
    throw new ModelFormatError(`not a valid seqwasm model: ${reason}`);
  };
  if (bytes.length < 8) fail(`the file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER, bytes.length - 8))) fail(`the header claims ${headerLength} bytes but the file has ${bytes.length - 8} after the length (truncated or corrupt)`);
  const n = Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (error) {
    fail(`the header is not JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
  const entries = header as Record<string, unknown>;
  const meta = entries.__metadata__ as Record<string, unknown> | undefined;
  if (typeof meta !== 'object' || meta === null) fail('no __metadata__ (this is a safetensors file, but not one seqwasm saved)');
  if (meta!.format !== FORMAT) fail(`__metadata__.format is ${JSON.stringify(meta!.format)}, not "${FORMAT}"`);
  const version = Number(meta!.version);
  if (!Number.isInteger(version) || version < 1) fail(`__metadata__.version ${JSON.stringify(meta!.version)} is not a version`);
  if (version > VERSION) fail(`format version ${version} is newer than this seqwasm reads (${VERSION}); upgrade seqwasm`);
  const parse = (key: string): unknown => {
    if (typeof meta![key] !== 'string') fail(`__metadata__.${key} is missing or not a string`);
    try {
      return JSON.parse(meta![key] as string);
    } catch {
      return fail(`__metadata__.${key} is not JSON`);
    }
  };
  const topology = parse('topology');
  const compile = meta!.compile === undefined ? undefined : parse('compile');
  let optimizerSteps: number | undefined;
  if (meta!.optimizer_steps !== undefined) {
    optimizerSteps = Number(meta!.optimizer_steps);
    if (!Number.isSafeInteger(optimizerSteps) || optimizerSteps < 0) fail(`__metadata__.optimizer_steps ${JSON.stringify(meta!.optimizer_steps)} is not a count`);
  }
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const ranges: [number, number, string][] = [];
  const tensors: SavedModel['tensors'] = [];
  for (const [name, entry] of Object.entries(entries)) {
    if (name === '__metadata__') continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(`tensor ${name} is not an object`);
    if (e.dtype !== 'F32') fail(`tensor ${name} has dtype ${JSON.stringify(e.dtype)}; only F32 is supported`);
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor ${name} has shape ${JSON.stringify(shape)}`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) fail(`tensor ${name} has data_offsets ${JSON.stringify(offsets)}`);
    const [begin, end] = offsets as [number, number];
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLength) fail(`tensor ${name}'s bytes ${begin}–${end} lie outside the ${dataLength} data bytes (truncated?)`);
    if (end - begin !== size * 4) fail(`tensor ${name} has shape [${(shape as number[]).join(', ')}] (${size * 4} bytes) but ${end - begin} bytes`);
    ranges.push([begin, end, name]);
    const data = new Float32Array(size);
    const dv = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin);
    for (let i = 0; i < size; i++) data[i] = dv.getFloat32(4 * i, true);
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) fail(`tensor ${name} holds ${data[bad]} at index ${bad}`);
    tensors.push({ name, shape: shape as number[], data });
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) fail(`tensors ${ranges[i - 1][2]} and ${ranges[i][2]} overlap`);
  }
  return { topology, compile, optimizerSteps, tensors };
}

/** Whether a saved topology is an encoder-decoder's (a sequential model's has `layers`). */
export function isSeq2Seq(topology: unknown): boolean {
  return typeof topology === 'object' && topology !== null && 'encoder' in topology && 'decoder' in topology;
}

function asBytes(input: unknown): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new ModelFormatError(`a saved model must be a Uint8Array or an ArrayBuffer, got ${input === null ? 'null' : typeof input}`);
}
