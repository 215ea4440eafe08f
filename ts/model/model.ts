// The model as users hold it, on their own thread. Its core (ts/model/core.ts) lives where the
// engine is: in the runtime's worker, reached through Comlink, or inline. Every method is
// async in both placements, checks its options, and converts the data before it crosses.
import { ConfigError } from '../errors.js';
import { Held } from './held.js';
import type { FitPlan, ModelCore } from './core.js';
import { describe, knownKeys, wholeNumber as count } from '../validate.js';
import { toLengths, toTensor } from './data.js';
import type { CompileOptions, Diagnostics, Evaluation, FitOptions, GenerateOptions, History, ModelSummary, PredictOptions, Tensor, TensorData, TensorLike } from './types.js';

const FIT_OPTIONS = ['epochs', 'batchSize', 'shuffle', 'validationData', 'validationSplit', 'lengths', 'tbptt', 'earlyStopping', 'onProgress', 'onEpochEnd', 'signal'];
const EARLY_STOPPING = ['monitor', 'patience', 'minDelta', 'restoreBestWeights'];

export class Model extends Held<ModelCore> {
  #takesIds: boolean | undefined;

  /** Layers with their output shapes and parameter counts, and the weights' total size. */
  async summary(): Promise<ModelSummary> {
    return this.run(() => this.core.summary());
  }

  /** Keras' compile: `{ loss: 'mse', optimizer: { type: 'adam', learning_rate: 0.01 }, metrics: ['mae'] }`. */
  async compile(options: CompileOptions): Promise<void> {
    return this.run(() => this.core.compile(options));
  }

  async fit(x: TensorLike, y: TensorLike, options: FitOptions = {}): Promise<History> {
    knownKeys('fit options', options, FIT_OPTIONS);
    knownKeys('fit options.earlyStopping', options.earlyStopping, EARLY_STOPPING);
    const xs = toTensor('fit', 'x', x);
    const ys = toTensor('fit', 'y', y);
    const split = options.validationSplit;
    if (split !== undefined && !(typeof split === 'number' && split > 0 && split < 1)) throw new ConfigError(`fit: validationSplit must be between 0 and 1, got ${describe(split)}`);
    if (options.validationData !== undefined && !(Array.isArray(options.validationData) && options.validationData.length === 2)) throw new ConfigError('fit: validationData must be [x, y]');
    const tbptt = options.tbptt === undefined ? undefined : { k1: count('fit: tbptt.k1', options.tbptt.k1, 0), k2: count('fit: tbptt.k2', options.tbptt.k2 ?? options.tbptt.k1, 0) };
    if (tbptt) knownKeys('fit options.tbptt', options.tbptt, ['k1', 'k2']);
    const plan: FitPlan = {
      epochs: count('fit: epochs', options.epochs, 1),
      batchSize: count('fit: batchSize', options.batchSize, 32),
      shuffle: options.shuffle ?? true,
      validationData: options.validationData && [toTensor('fit', 'validationData[0]', options.validationData[0]), toTensor('fit', 'validationData[1]', options.validationData[1])],
      validationSplit: split,
      lengths: toLengths('fit', options.lengths, xs.shape[0], xs.shape[1]),
      tbptt,
      earlyStopping: options.earlyStopping,
    };
    for (const [name, fn] of [['onProgress', options.onProgress], ['onEpochEnd', options.onEpochEnd]] as const) {
      if (fn !== undefined && typeof fn !== 'function') throw new ConfigError(`fit: ${name} must be a function`);
    }
    const [progress, epochEnd] = [this.callback(options.onProgress), this.callback(options.onEpochEnd)];
    return this.cancellable(options.signal, (stop) => this.run(() => (this.core.fit as ModelCore['fit'])(xs, ys, { ...plan, stop }, progress, epochEnd)));
  }

  async evaluate(x: TensorLike, y: TensorLike, options: PredictOptions = {}): Promise<Evaluation> {
    knownKeys('evaluate options', options, ['batchSize', 'lengths']);
    const xs = toTensor('evaluate', 'x', x);
    const ys = toTensor('evaluate', 'y', y);
    const lengths = toLengths('evaluate', options.lengths, xs.shape[0], xs.shape[1]);
    return this.run(() => this.core.evaluate(xs, ys, count('evaluate: batchSize', options.batchSize, 256), lengths));
  }

  /**
   * Gradient-flow diagnostics of one batch, without an update: ‖dL/dh_t‖ for every step of
   * every recurrent layer (vanishing and exploding gradients made visible) and per-parameter
   * gradient norms.
   */
  async diagnose(x: TensorLike, y: TensorLike, options: { lengths?: ArrayLike<number> } = {}): Promise<Diagnostics> {
    knownKeys('diagnose options', options, ['lengths']);
    const xs = toTensor('diagnose', 'x', x);
    const ys = toTensor('diagnose', 'y', y);
    const lengths = toLengths('diagnose', options.lengths, xs.shape[0], xs.shape[1]);
    return this.run(() => this.core.diagnose(xs, ys, lengths));
  }

  /** Outputs `[batch, steps, features]` (or `[batch, features]`) for inputs `[batch, steps, ·]`. */
  async predict(x: TensorLike, options: PredictOptions = {}): Promise<Tensor> {
    knownKeys('predict options', options, ['batchSize', 'lengths']);
    const xs = toTensor('predict', 'x', x);
    const lengths = toLengths('predict', options.lengths, xs.shape[0], xs.shape[1]);
    return this.run(() => this.core.predict(xs, count('predict: batchSize', options.batchSize, 256), lengths));
  }

  /**
   * Step-by-step stateful inference: each `step` continues from the state the previous one
   * left inside wasm. A step is `[batch, features]` (one time step) or `[batch, steps, features]`.
   */
  stream(): { step(x: TensorLike): Promise<Tensor>; reset(): Promise<void> } {
    return {
      step: async (x) => {
        const t = toTensor('stream', 'x', x);
        this.#takesIds ??= (await this.summary()).takesIds;
        // One time step: add the steps axis.
        const oneStep = this.#takesIds ? t.shape.length === 1 : t.shape.length === 2;
        const shaped: TensorData = oneStep ? { data: t.data, shape: [t.shape[0], 1, ...t.shape.slice(1)] } : t;
        return this.run(() => this.core.step(shaped));
      },
      reset: () => this.resetStates(),
    };
  }

  async resetStates(): Promise<void> {
    return this.run(() => this.core.resetStates());
  }

  /** Token ids sampled after `prime`, for a model that takes ids and returns a distribution per step. */
  async generate(prime: ArrayLike<number>, options: GenerateOptions): Promise<Uint32Array> {
    knownKeys('generate options', options, ['length', 'temperature', 'topK', 'topP', 'seed']);
    const ids = Array.from(prime ?? []);
    if (!ids.every((v) => Number.isSafeInteger(v) && v >= 0)) throw new ConfigError('generate: prime must hold whole-number token ids');
    return this.run(() => this.core.generate(Uint32Array.from(ids), options));
  }
}
