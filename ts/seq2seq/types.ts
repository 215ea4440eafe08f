// The public types of encoder-decoder models. Topology keys are the core's JSON keys
// (snake_case, as the layer options of `sequential` are); call options are camelCase.
import type { EpochLog, ProgressEvent } from '../model/types.js';

/** A recurrent layer for the encoder or decoder: `{ type: 'lstm', units: 64, bidirectional: true }`. */
export interface RecurrentSpec {
  type: 'lstm' | 'gru' | 'rnn';
  units: number;
  [option: string]: unknown;
}

export type AttentionSpec =
  | { type: 'bahdanau'; units?: number }
  | { type: 'luong'; score?: 'dot' | 'general' | 'concat'; units?: number; window?: 'global' | 'monotonic' | 'predictive'; width?: number };

export interface Seq2SeqConfig {
  source: { vocab: number; dim: number };
  target: { vocab: number; dim: number };
  encoder: RecurrentSpec;
  /** One layer in one direction; its units equal the encoder's final state (both directions side by side) unless `initial_state` is 'zeros'. */
  decoder: RecurrentSpec;
  /** Absent: no attention (the decoder sees only the encoder's final state). */
  attention?: AttentionSpec;
  /** Target ids that start decoding and end a sequence. */
  start_token: number;
  end_token: number;
  initial_state?: 'encoder' | 'zeros';
}

export interface Seq2SeqCompileOptions {
  optimizer?: string | { type: string; [option: string]: unknown };
  schedule?: { type: 'constant' | 'step' | 'exponential' | 'cosine'; [option: string]: unknown };
  seed?: number;
  /** The probability of feeding the model's own previous token instead of the true one while training. */
  scheduled_sampling?: number;
}

/** Token sequences of any lengths (targets without the end token: the model adds it). */
export type TokenSequences = ArrayLike<number>[];

export interface Seq2SeqFitOptions {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  validationData?: [TokenSequences, TokenSequences];
  /** Greedy outputs for the validation metrics are at most this long (default: the longest target + 5). */
  maxLength?: number;
  onProgress?: (event: ProgressEvent) => void;
  onEpochEnd?: (log: EpochLog) => void;
  signal?: AbortSignal;
}

export interface Seq2SeqEvaluation {
  /** Mean cross-entropy per target token (end token included), teacher-forced. */
  loss: number;
  /** Target tokens predicted right, teacher-forced. */
  accuracy: number;
  /** Greedy outputs equal to their target. */
  exactMatch: number;
  /** Corpus BLEU-4 of the greedy outputs. */
  bleu: number;
}

export interface DecodeOptions {
  /** Output tokens at most (default 50). */
  maxLength?: number;
  /** 1 (default) is greedy decoding. */
  beamWidth?: number;
  /** α in log-probability / steps^α (default 0: raw log-probability). */
  lengthPenalty?: number;
}

export interface Decoded {
  /** The output, without the end token. */
  tokens: Uint32Array;
  /** Whether it ended with the end token (otherwise it reached maxLength). */
  finished: boolean;
  /** The model's log-probability of the output, end token included. */
  logProb: number;
  score: number;
  /** `[output steps, source length]`: each step's weights over the source (empty without attention). */
  attention: { data: Float32Array; shape: [number, number] };
}

/** Sequences padded into one batch: what crosses to the worker. */
export interface PaddedTokens {
  data: Uint32Array;
  lengths: Uint32Array;
  steps: number;
}
