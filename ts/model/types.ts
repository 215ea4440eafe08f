// The public types of the model API (Keras' names and meanings, camelCase where JS has them).

/** A layer as Keras names it: `{ type: 'lstm', units: 32, return_sequences: true }`. */
export interface LayerSpec {
  type: 'embedding' | 'rnn' | 'lstm' | 'gru' | 'jordan' | 'dense' | 'conv1d' | 'max_pooling1d' | 'average_pooling1d' | 'layer_normalization' | 'activation' | 'dropout';
  [option: string]: unknown;
}

/** Data: a flat typed array with its shape, or nested arrays. Batch-major: `[batch, steps, features]`. */
export interface Tensor {
  data: Float32Array | Uint32Array | Int32Array;
  shape: number[];
}
export type TensorLike = Tensor | number[] | number[][] | number[][][];

/** A batch with its data normalised: what crosses to the worker. */
export interface TensorData {
  data: Float32Array | Uint32Array;
  shape: number[];
}

export interface SequentialOptions {
  /** Features per time step; leave out when the first layer is an embedding (token ids in). */
  input?: number;
  /** Seeds the initial weights (default 0). */
  seed?: number;
}

export interface CompileOptions {
  loss: string | { type: string; [option: string]: unknown };
  optimizer?: string | { type: string; [option: string]: unknown };
  schedule?: { type: 'constant' | 'step' | 'exponential' | 'cosine'; [option: string]: unknown };
  metrics?: string[];
  /** Seeds dropout and shuffling (default 0): the same seed gives the same training, bit for bit. */
  seed?: number;
}

export interface ProgressEvent {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Mean training loss of the epoch so far. */
  loss: number;
  samplesPerSecond: number;
  /** Seconds left for the whole fit at the current speed. */
  etaSeconds: number;
}

export interface EpochLog {
  epoch: number;
  /** Mean loss of the epoch's training batches. */
  loss: number;
  /** Compiled metrics on the training data, measured after the epoch. */
  metrics: Record<string, number>;
  valLoss?: number;
  valMetrics?: Record<string, number>;
}

export interface EarlyStoppingOptions {
  monitor?: 'loss' | 'val_loss';
  patience?: number;
  minDelta?: number;
  restoreBestWeights?: boolean;
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  validationData?: [TensorLike, TensorLike];
  /** The last fraction of the samples (before shuffling), held out for validation (Keras). */
  validationSplit?: number;
  /** Ragged sequences: each sample's length; steps past it are padding. */
  lengths?: ArrayLike<number>;
  /** Truncated BPTT over long streams: x is `[streams, steps, features]`. */
  tbptt?: { k1: number; k2?: number };
  earlyStopping?: EarlyStoppingOptions;
  onProgress?: (event: ProgressEvent) => void;
  onEpochEnd?: (log: EpochLog) => void;
  /** Stops within one batch; the model keeps the weights of the last finished batch. */
  signal?: AbortSignal;
}

export interface History {
  epochs: EpochLog[];
  stopped: 'completed' | 'early-stopping' | 'cancelled';
}

export interface Evaluation {
  loss: number;
  metrics: Record<string, number>;
}

export interface PredictOptions {
  batchSize?: number;
  lengths?: ArrayLike<number>;
}

export interface GenerateOptions {
  length: number;
  /** 0 picks the most likely token; default 1. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
}

export interface LayerSummary {
  index: number;
  kind: string;
  /** Keras' output shape, `null` for the batch (and the steps) axis. */
  outputShape: (number | null)[];
  parameters: number;
}

export interface ModelSummary {
  layers: LayerSummary[];
  parameters: number;
  /** Bytes of the weights (f32). */
  bytes: number;
  /** Whether the model takes token ids (its first layer is an embedding). */
  takesIds: boolean;
}

/** The gradient flow of one batch: how far back in time the loss's gradient reaches. */
export interface Diagnostics {
  loss: number;
  /** ‖dL/dh_t‖ at every step t, per recurrent layer and direction (`0.l0`, `2.l1_reverse`, …). */
  stateNorms: Record<string, number[]>;
  /** ‖dL/dθ‖ per parameter. */
  parameterNorms: Record<string, number>;
}
