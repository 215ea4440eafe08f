// An encoder-decoder as users hold it, on their own thread; its core (ts/seq2seq/core.ts)
// lives where the engine is. Token sequences are padded here, before they cross.
import { ConfigError, DTypeError } from '../errors.js';
import { describe, knownKeys, wholeNumber as count } from '../validate.js';
import { Held } from '../model/held.js';
import type { History } from '../model/types.js';
import type { Seq2SeqCore, Seq2SeqFitPlan } from './core.js';
import type { DecodeOptions, Decoded, PaddedTokens, Seq2SeqCompileOptions, Seq2SeqEvaluation, Seq2SeqFitOptions, TokenSequences } from './types.js';

const FIT_OPTIONS = ['epochs', 'batchSize', 'shuffle', 'validationData', 'maxLength', 'onProgress', 'onEpochEnd', 'signal'];

/** Sequences of token ids padded with 0 into one flat batch, with their lengths. */
export function padTokens(op: string, name: string, sequences: unknown): PaddedTokens {
  if (!Array.isArray(sequences)) throw new ConfigError(`${op}: ${name} must be an array of token sequences, got ${describe(sequences)}`);
  const rows = sequences.map((s, i) => {
    if (typeof s !== 'object' || s === null || typeof (s as ArrayLike<number>).length !== 'number') throw new ConfigError(`${op}: ${name}[${i}] must be an array of token ids, got ${describe(s)}`);
    return Array.from(s as ArrayLike<number>);
  });
  const steps = Math.max(1, ...rows.map((r) => r.length));
  const data = new Uint32Array(rows.length * steps);
  rows.forEach((row, i) =>
    row.forEach((id, t) => {
      if (!Number.isSafeInteger(id) || id < 0) throw new DTypeError(`${op}: ${name}[${i}][${t}] must be a whole-number token id, got ${describe(id)}`);
      data[i * steps + t] = id;
    }),
  );
  return { data, lengths: Uint32Array.from(rows, (r) => r.length), steps };
}

export class Seq2SeqModel extends Held<Seq2SeqCore> {
  /** Every parameter with its PyTorch-layout shape and count, and the weights' size in bytes. */
  async summary(): Promise<{ parameters: { name: string; shape: number[]; count: number }[]; total: number; bytes: number }> {
    return this.run(() => this.core.summary());
  }

  /** `{ optimizer: { type: 'adam', learning_rate: 0.005 }, scheduled_sampling: 0.2 }`; the loss is the targets' cross-entropy. */
  async compile(options: Seq2SeqCompileOptions = {}): Promise<void> {
    return this.run(() => this.core.compile(options));
  }

  /** Teacher-forced training on pairs of token sequences (targets without the end token). */
  async fit(sources: TokenSequences, targets: TokenSequences, options: Seq2SeqFitOptions = {}): Promise<History> {
    knownKeys('fit options', options, FIT_OPTIONS);
    const op = 'fit';
    const v = options.validationData;
    if (v !== undefined && !(Array.isArray(v) && v.length === 2)) throw new ConfigError('fit: validationData must be [sources, targets]');
    const plan: Seq2SeqFitPlan = {
      epochs: count('fit: epochs', options.epochs, 1),
      batchSize: count('fit: batchSize', options.batchSize, 32),
      shuffle: options.shuffle ?? true,
      validationData: v && [padTokens(op, 'validationData[0]', v[0]), padTokens(op, 'validationData[1]', v[1])],
      maxLength: options.maxLength === undefined ? undefined : count('fit: maxLength', options.maxLength, 1),
    };
    for (const [name, fn] of [['onProgress', options.onProgress], ['onEpochEnd', options.onEpochEnd]] as const) {
      if (fn !== undefined && typeof fn !== 'function') throw new ConfigError(`fit: ${name} must be a function`);
    }
    const [s, t] = [padTokens(op, 'sources', sources), padTokens(op, 'targets', targets)];
    const [progress, epochEnd] = [this.callback(options.onProgress), this.callback(options.onEpochEnd)];
    return this.cancellable(options.signal, (stop) => this.run(() => (this.core.fit as Seq2SeqCore['fit'])(s, t, { ...plan, stop }, progress, epochEnd)));
  }

  /** Loss and token accuracy (teacher-forced), exact match and BLEU (greedy outputs). */
  async evaluate(sources: TokenSequences, targets: TokenSequences, options: { batchSize?: number; maxLength?: number } = {}): Promise<Seq2SeqEvaluation> {
    knownKeys('evaluate options', options, ['batchSize', 'maxLength']);
    const [s, t] = [padTokens('evaluate', 'sources', sources), padTokens('evaluate', 'targets', targets)];
    const maxLength = options.maxLength === undefined ? undefined : count('evaluate: maxLength', options.maxLength, 1);
    return this.run(() => this.core.evaluate(s, t, count('evaluate: batchSize', options.batchSize, 256), maxLength));
  }

  /** Outputs for each source, greedy or by beam search, with each output step's attention over the source. */
  async decode(sources: TokenSequences, options: DecodeOptions = {}): Promise<Decoded[]> {
    knownKeys('decode options', options, ['maxLength', 'beamWidth', 'lengthPenalty']);
    const s = padTokens('decode', 'sources', sources);
    const penalty = options.lengthPenalty ?? 0;
    if (typeof penalty !== 'number' || !(penalty >= 0) || !Number.isFinite(penalty)) throw new ConfigError(`decode: lengthPenalty must be a number ≥ 0, got ${describe(penalty)}`);
    const plan = { maxLength: count('decode: maxLength', options.maxLength, 50), beamWidth: count('decode: beamWidth', options.beamWidth, 1), lengthPenalty: penalty };
    return this.run(() => this.core.decode(s, plan));
  }
}
