// A model where its engine runs (a worker, or the caller's thread): the wasm handle plus the
// loops around it (epochs, batches, validation, early stopping, progress). Every argument and
// result is plain data, so the same object serves both placements, inline or behind Comlink.
import { ConfigError, DTypeError, DisposedError, ModelFormatError, ShapeError, wasmCall as wasm } from '../errors.js';
import type { ThreadsGlue } from '../glue.js';
import { describe, knownKeys } from '../validate.js';
import { toLengths } from './data.js';
import { decode, encode, isSeq2Seq } from './format.js';
import { Epochs, stopRaised } from './epochs.js';
import { readWeights, restoreTensors, savedTensors, writeWeights } from './weights.js';
import type { CompileOptions, Diagnostics, EarlyStoppingOptions, EpochLog, Evaluation, GenerateOptions, History, LayerSummary, ModelSummary, ProgressEvent, TensorData } from './types.js';

type WasmModel = InstanceType<ThreadsGlue['Model']>;
export type ModelClass = new (topology: string, seed: number) => WasmModel;

/** What fit needs besides the data; callbacks stay on the caller's side. */
export interface FitPlan {
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  validationData?: [TensorData, TensorData];
  validationSplit?: number;
  lengths?: Uint32Array;
  tbptt?: { k1: number; k2: number };
  earlyStopping?: EarlyStoppingOptions;
  /** Raised to stop the fit after its current batch (see `Held.cancellable`). */
  stop?: Int32Array;
}

export interface Topology {
  input?: number;
  layers: unknown[];
}

const CLASS_LOSSES = ['sparse_categorical_crossentropy'];

export class ModelCore {
  #handle: WasmModel | undefined;
  #compiled: CompileOptions | undefined;
  /** The running fit's stop flag: its caller's (shared with a worker's caller) or its own. */
  #stop: Int32Array = new Int32Array(1);

  private constructor(
    handle: WasmModel,
    readonly topology: Topology,
    private readonly wasmBytes: () => number,
  ) {
    this.#handle = handle;
  }

  static create(Model: ModelClass, topology: Topology, seed: number, wasmBytes: () => number): ModelCore {
    return new ModelCore(wasm(() => new Model(JSON.stringify(topology), seed)), topology, wasmBytes);
  }

  /** Rebuilds a saved model; every check failure is a ModelFormatError. */
  static load(Model: ModelClass, bytes: Uint8Array, wasmBytes: () => number): ModelCore {
    const saved = decode(bytes);
    if (isSeq2Seq(saved.topology)) throw new ModelFormatError('this file holds an encoder-decoder model: load it with loadSeq2Seq');
    let core: ModelCore;
    try {
      core = ModelCore.create(Model, saved.topology as Topology, 0, wasmBytes);
    } catch (error) {
      throw new ModelFormatError(`not a valid seqwasm model: its topology is rejected: ${(error as Error).message}`);
    }
    restoreTensors(core.#live(), saved, (options) => core.compile(options as CompileOptions));
    return core;
  }

  summary(): ModelSummary {
    const handle = this.#live();
    const rows = JSON.parse(handle.summary()) as { index: number; kind: string; sequence: boolean; features: number; parameters: number }[];
    const layers: LayerSummary[] = rows.map((r) => ({ index: r.index, kind: r.kind, outputShape: r.sequence ? [null, null, r.features] : [null, r.features], parameters: r.parameters }));
    const parameters = layers.reduce((a, l) => a + l.parameters, 0);
    return { layers, parameters, bytes: parameters * 4, takesIds: handle.takesIds };
  }

  compile(options: CompileOptions): void {
    const handle = this.#live();
    if (typeof options !== 'object' || options === null) throw new ConfigError(`compile needs an options object, got ${describe(options)}`);
    knownKeys('compile', options, ['loss', 'optimizer', 'schedule', 'metrics', 'seed']);
    wasm(() => handle.compile(JSON.stringify(options)));
    this.#compiled = structuredClone(options);
  }

  /** Stops a running fit after its current batch. */
  cancel(): void {
    Atomics.store(this.#stop, 0, 1);
  }

  async fit(x: TensorData, y: TensorData, plan: FitPlan, progress?: (event: ProgressEvent) => unknown, epochEnd?: (log: EpochLog) => unknown): Promise<History> {
    this.#live();
    const stop = (this.#stop = plan.stop ?? new Int32Array(1));
    if (!this.#compiled) throw new ConfigError('fit: compile the model first (loss and optimizer)');
    if (plan.tbptt) return this.#fitStream(x, y, plan, progress, epochEnd);
    const op = 'fit';
    const all = this.#samples(op, x, y, plan.lengths);
    let train = all;
    let validation: Samples | undefined;
    if (plan.validationData) {
      validation = this.#samples(op, plan.validationData[0], plan.validationData[1], undefined);
    } else if (plan.validationSplit) {
      const held = Math.floor(all.count * plan.validationSplit);
      if (held < 1 || held >= all.count) throw new ConfigError(`fit: validationSplit ${plan.validationSplit} leaves no training or no validation samples of ${all.count}`);
      [train, validation] = [all.take(0, all.count - held), all.take(all.count - held, all.count)];
    }
    const history: History = { epochs: [], stopped: 'completed' };
    const stopper = plan.earlyStopping ? new Stopper(plan.earlyStopping, !!validation) : undefined;
    const epochs = new Epochs(plan.epochs, train.count, plan.batchSize, progress);
    const step = (indices: number[]) => {
      const part = train.gather(indices);
      return (JSON.parse(wasm(() => this.#live().trainBatch(part.x, part.ids, part.count, part.steps, part.lengths, part.y, part.classes))) as { loss: number }).loss;
    };
    for (let epoch = 0; epoch < plan.epochs; epoch++) {
      const order = plan.shuffle ? Array.from(this.#live().shuffledOrder(train.count)) : [...Array(train.count).keys()];
      const loss = await epochs.run(epoch, order, step, () => stopRaised(stop));
      if (loss === undefined) {
        history.stopped = 'cancelled';
        break;
      }
      const log: EpochLog = { epoch, loss, metrics: this.#compiled.metrics?.length ? this.#evaluate(train).metrics : {} };
      if (validation) {
        const v = this.#evaluate(validation);
        log.valLoss = v.loss;
        log.valMetrics = v.metrics;
      }
      history.epochs.push(log);
      await epochEnd?.(log);
      if (stopper?.observe(log, () => this.#weights()) === 'stop') {
        history.stopped = 'early-stopping';
        break;
      }
    }
    stopper?.restore((w) => this.#setWeights(w));
    return history;
  }

  async #fitStream(x: TensorData, y: TensorData, plan: FitPlan, progress?: (event: ProgressEvent) => unknown, epochEnd?: (log: EpochLog) => unknown): Promise<History> {
    const op = 'fit (tbptt)';
    // Whole streams, one window after another: options about samples and batches do not apply.
    const ignored = (['validationData', 'validationSplit', 'earlyStopping', 'lengths'] as const).filter((k) => plan[k] !== undefined);
    if (ignored.length) throw new ConfigError(`${op}: ${ignored.join(', ')} cannot be combined with tbptt (it trains over whole streams)`);
    const s = this.#samples(op, x, y, undefined);
    const { k1, k2 } = plan.tbptt!;
    const history: History = { epochs: [], stopped: 'completed' };
    const started = Date.now();
    for (let epoch = 0; epoch < plan.epochs; epoch++) {
      const reports = JSON.parse(wasm(() => this.#live().trainStream(s.x, s.ids, s.count, s.steps, s.y, s.classes, k1, k2))) as { loss: number }[];
      const loss = reports.reduce((a, r) => a + r.loss, 0) / Math.max(reports.length, 1);
      const rate = ((epoch + 1) * s.count * s.steps) / Math.max((Date.now() - started) / 1000, 1e-3);
      await progress?.({ epoch, epochs: plan.epochs, batch: reports.length, batches: reports.length, loss, samplesPerSecond: rate, etaSeconds: ((plan.epochs - epoch - 1) * s.count * s.steps) / rate });
      const log: EpochLog = { epoch, loss, metrics: this.#compiled?.metrics?.length ? this.#evaluate(s).metrics : {} };
      history.epochs.push(log);
      await epochEnd?.(log);
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (stopRaised(this.#stop)) {
        history.stopped = 'cancelled';
        break;
      }
    }
    return history;
  }

  evaluate(x: TensorData, y: TensorData, batchSize: number, lengths?: Uint32Array): Evaluation {
    if (!this.#compiled) throw new ConfigError('evaluate: compile the model first (loss and metrics)');
    return this.#evaluate(this.#samples('evaluate', x, y, lengths), batchSize);
  }

  #evaluate(s: Samples, batchSize = 256): Evaluation {
    return JSON.parse(wasm(() => this.#live().evaluate(s.x, s.ids, s.count, s.steps, s.lengths, s.y, s.classes, batchSize))) as Evaluation;
  }

  /** The gradient flow of one batch, without an update (see `Model.diagnose`). */
  diagnose(x: TensorData, y: TensorData, lengths?: Uint32Array): Diagnostics {
    if (!this.#compiled) throw new ConfigError('diagnose: compile the model first (it needs the loss)');
    const s = this.#samples('diagnose', x, y, lengths);
    return JSON.parse(wasm(() => this.#live().diagnose(s.x, s.ids, s.count, s.steps, s.lengths, s.y, s.classes))) as Diagnostics;
  }

  /** Outputs for a batch of sequences, `batchSize` at a time. */
  predict(x: TensorData, batchSize: number, lengths?: Uint32Array): TensorData {
    const s = this.#samples('predict', x, undefined, lengths);
    const parts: Float32Array[] = [];
    let shape: number[] = [];
    for (let start = 0; start < s.count; start += batchSize) {
      const part = s.take(start, Math.min(s.count, start + batchSize));
      const out = this.#run(part, false);
      parts.push(out.data as Float32Array);
      shape = out.shape;
    }
    const data = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
    return { data, shape: [s.count, ...shape.slice(1)] };
  }

  /** One stateful call: continues from the state the previous one ended in. */
  step(x: TensorData): TensorData {
    return this.#run(this.#samples('stream', x, undefined, undefined), true);
  }

  resetStates(): void {
    this.#live().resetStates();
  }

  generate(prime: Uint32Array, options: GenerateOptions): Uint32Array {
    const handle = this.#live();
    const o = { temperature: 1, topK: 0, topP: 1, seed: 0, ...options };
    if (!Number.isSafeInteger(o.length) || o.length < 0) throw new ConfigError(`generate: length must be a whole number, got ${String(o.length)}`);
    if (!Number.isSafeInteger(o.topK) || o.topK < 0) throw new ConfigError(`generate: topK must be a whole number, got ${String(o.topK)}`);
    const logits = !this.#producesProbabilities();
    return wasm(() => handle.generate(prime, o.length, o.temperature, o.topK, o.topP, logits, o.seed >>> 0));
  }

  /** The model as bytes; with `includeOptimizer` (and a compiled model) the optimizer's state too, to resume training. */
  save(includeOptimizer: boolean): Uint8Array {
    return encode({ topology: this.topology, compile: this.#compiled, ...savedTensors(this.#live(), includeOptimizer && this.#compiled !== undefined) });
  }

  getWeights(): Record<string, Float32Array> {
    return readWeights(this.#live());
  }

  setWeights(weights: Record<string, Float32Array>): void {
    writeWeights(this.#live(), weights);
  }

  /** The engine's wasm memory in bytes: what a leak would grow. */
  memoryUsage(): { wasmBytes: number } {
    this.#live();
    return { wasmBytes: this.wasmBytes() };
  }

  dispose(): void {
    this.#handle?.free();
    this.#handle = undefined;
  }

  #weights(): Float32Array[] {
    const handle = this.#live();
    return handle.parameterNames().map((name) => handle.parameter(name));
  }

  #setWeights(weights: Float32Array[]): void {
    const handle = this.#live();
    handle.parameterNames().forEach((name, i) => handle.setParameter(name, weights[i]));
  }

  /** Whether the last layer is a softmax (so outputs are probabilities, not logits). */
  #producesProbabilities(): boolean {
    const layers = this.summary().layers;
    return layers[layers.length - 1]?.kind === 'Softmax';
  }

  #run(s: Samples, stateful: boolean): TensorData {
    const handle = this.#live();
    const out = wasm(() => (s.ids ? handle.predictIds(s.ids, s.count, s.steps, s.lengths, stateful) : handle.predict(s.x!, s.count, s.steps, s.lengths, stateful)));
    const steps = out.steps;
    const result = { data: out.y, shape: steps === undefined ? [s.count, out.features] : [s.count, steps, out.features] };
    out.free();
    return result;
  }

  /** Checks the data against the model and the loss, and puts it in the form wasm takes. */
  #samples(op: string, x: TensorData, y: TensorData | undefined, lengths: Uint32Array | undefined): Samples {
    const handle = this.#live();
    const takesIds = handle.takesIds;
    const expected = takesIds ? '[batch, steps] token ids' : `[batch, steps, ${handle.inputFeatures}]`;
    const rankOk = takesIds ? x.shape.length === 2 : x.shape.length === 3 && x.shape[2] === handle.inputFeatures;
    if (!rankOk) throw new ShapeError(`${op}: x must be ${expected}, got shape [${x.shape.join(', ')}]`);
    const [count, steps] = x.shape;
    if (count === 0 || steps === 0) throw new ShapeError(`${op}: x must hold at least one sequence of at least one step, got shape [${x.shape.join(', ')}]`);
    let xs: Float32Array | undefined;
    let ids: Uint32Array | undefined;
    if (takesIds) ids = asIds(op, 'x', x.data);
    else if (x.data instanceof Float32Array) xs = x.data;
    else throw new DTypeError(`${op}: this model takes float values (it has no embedding), got integer ids`);
    const lens = toLengths(op, lengths, count, steps);
    let yv: Float32Array | undefined;
    let classes: Uint32Array | undefined;
    if (y) {
      const sequence = handle.outputSequence;
      const features = handle.outputFeatures;
      const byClass = this.#compiled !== undefined && CLASS_LOSSES.includes(lossName(this.#compiled.loss));
      // A convolution or pooling changes the number of steps: wasm checks y against the output.
      const lead = sequence ? [count, y.shape[1] ?? steps] : [count];
      const want = byClass ? lead : [...lead, features];
      const shape = byClass && y.shape.length === lead.length + 1 && y.shape[lead.length] === 1 ? y.shape.slice(0, -1) : y.shape;
      if (shape.join() !== want.join()) {
        throw new ShapeError(`${op}: y must be [${want.join(', ')}] (${byClass ? 'one class id per ' + (sequence ? 'step' : 'sequence') : 'like the output'}), got [${y.shape.join(', ')}]`);
      }
      if (byClass) classes = asIds(op, 'y', y.data);
      else yv = y.data instanceof Float32Array ? y.data : Float32Array.from(y.data);
    }
    return new Samples(count, steps, xs, ids, lens, yv, classes);
  }

  #live(): WasmModel {
    if (!this.#handle) throw new DisposedError('this model was disposed');
    return this.#handle;
  }
}

/** A set of samples, flat and batch-major, that can be cut into batches. */
class Samples {
  constructor(
    readonly count: number,
    readonly steps: number,
    readonly x: Float32Array | undefined,
    readonly ids: Uint32Array | undefined,
    readonly lengths: Uint32Array | undefined,
    readonly y: Float32Array | undefined,
    readonly classes: Uint32Array | undefined,
  ) {}

  take(from: number, to: number): Samples {
    const cut = <A extends Float32Array | Uint32Array>(a: A | undefined): A | undefined => (a ? (a.slice((a.length / this.count) * from, (a.length / this.count) * to) as A) : undefined);
    return new Samples(to - from, this.steps, cut(this.x), cut(this.ids), cut(this.lengths), cut(this.y), cut(this.classes));
  }

  gather(indices: number[]): Samples {
    const pick = <A extends Float32Array | Uint32Array>(a: A | undefined, make: (n: number) => A): A | undefined => {
      if (!a) return undefined;
      const per = a.length / this.count;
      const out = make(per * indices.length);
      indices.forEach((s, i) => out.set(a.subarray(s * per, (s + 1) * per), i * per));
      return out;
    };
    const f = (n: number) => new Float32Array(n);
    const u = (n: number) => new Uint32Array(n);
    return new Samples(indices.length, this.steps, pick(this.x, f), pick(this.ids, u), pick(this.lengths, u), pick(this.y, f), pick(this.classes, u));
  }
}

/** Early stopping on the caller's chosen quantity, keeping the best weights (Keras' rules). */
class Stopper {
  #best = Infinity;
  #wait = 0;
  #weights: Float32Array[] | undefined;
  readonly #monitor: 'loss' | 'val_loss';

  constructor(
    private readonly options: EarlyStoppingOptions,
    hasValidation: boolean,
  ) {
    this.#monitor = options.monitor ?? (hasValidation ? 'val_loss' : 'loss');
    if (this.#monitor === 'val_loss' && !hasValidation) throw new ConfigError('earlyStopping monitors val_loss but fit has no validationData or validationSplit');
  }

  observe(log: EpochLog, weights: () => Float32Array[]): 'go on' | 'stop' {
    const value = this.#monitor === 'val_loss' ? log.valLoss! : log.loss;
    if (value < this.#best - (this.options.minDelta ?? 0)) {
      this.#best = value;
      this.#wait = 0;
      if (this.options.restoreBestWeights) this.#weights = weights();
      return 'go on';
    }
    return ++this.#wait > (this.options.patience ?? 0) ? 'stop' : 'go on';
  }

  restore(set: (weights: Float32Array[]) => void): void {
    if (this.#weights) set(this.#weights);
  }
}

function lossName(loss: CompileOptions['loss']): string {
  return typeof loss === 'string' ? loss : loss.type;
}

function asIds(op: string, name: string, data: Float32Array | Uint32Array): Uint32Array {
  if (data instanceof Uint32Array) return data;
  const ids = new Uint32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isInteger(data[i]) || data[i] < 0) throw new DTypeError(`${op}: ${name} must hold whole-number ids, got ${data[i]} at index ${i}`);
    ids[i] = data[i];
  }
  return ids;
}
