// An encoder-decoder where its engine runs (a worker, or the caller's thread): the wasm handle
// plus the loops around it (epochs, batches, validation, progress). Arguments and results are
// plain data, so the same object serves both placements.
import { ConfigError, DisposedError, ModelFormatError, ShapeError, wasmCall as wasm } from '../errors.js';
import type { ThreadsGlue } from '../glue.js';
import { describe, knownKeys } from '../validate.js';
import { decode as decodeFile, encode, isSeq2Seq } from '../model/format.js';
import { Epochs, stopRaised } from '../model/epochs.js';
import { readWeights, restoreTensors, savedTensors, writeWeights } from '../model/weights.js';
import type { EpochLog, History, ProgressEvent } from '../model/types.js';
import type { DecodeOptions, Decoded, PaddedTokens, Seq2SeqCompileOptions, Seq2SeqConfig, Seq2SeqEvaluation } from './types.js';

type WasmSeq2Seq = InstanceType<ThreadsGlue['Seq2Seq']>;
export type Seq2SeqClass = new (config: string, seed: number) => WasmSeq2Seq;

export interface Seq2SeqFitPlan {
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  validationData?: [PaddedTokens, PaddedTokens];
  maxLength?: number;
  /** Raised to stop the fit after its current batch (see `Held.cancellable`). */
  stop?: Int32Array;
}

interface Facts {
  sourceVocab: number;
  targetVocab: number;
  start: number;
  end: number;
  attention: boolean;
}

export class Seq2SeqCore {
  #handle: WasmSeq2Seq | undefined;
  #compiled: Seq2SeqCompileOptions | undefined;
  /** The running fit's stop flag: its caller's (shared with a worker's caller) or its own. */
  #stop: Int32Array = new Int32Array(1);
  readonly #facts: Facts;

  private constructor(
    handle: WasmSeq2Seq,
    readonly config: Seq2SeqConfig,
    private readonly wasmBytes: () => number,
  ) {
    this.#handle = handle;
    this.#facts = JSON.parse(handle.describe()) as Facts;
  }

  static create(Class: Seq2SeqClass, config: Seq2SeqConfig, seed: number, wasmBytes: () => number): Seq2SeqCore {
    return new Seq2SeqCore(wasm(() => new Class(JSON.stringify(config), seed)), config, wasmBytes);
  }

  /** Rebuilds a saved encoder-decoder; every check failure is a ModelFormatError. */
  static load(Class: Seq2SeqClass, bytes: Uint8Array, wasmBytes: () => number): Seq2SeqCore {
    const saved = decodeFile(bytes);
    if (!isSeq2Seq(saved.topology)) throw new ModelFormatError('this file holds a sequential model: load it with loadModel');
    let core: Seq2SeqCore;
    try {
      core = Seq2SeqCore.create(Class, saved.topology as Seq2SeqConfig, 0, wasmBytes);
    } catch (error) {
      throw new ModelFormatError(`not a valid seqwasm model: its topology is rejected: ${(error as Error).message}`);
    }
    restoreTensors(core.#live(), saved, (options) => core.compile(options as Seq2SeqCompileOptions));
    return core;
  }

  /** Parameter names with their shapes and counts, and the weights' total size. */
  summary(): { parameters: { name: string; shape: number[]; count: number }[]; total: number; bytes: number } {
    const handle = this.#live();
    const shapes = JSON.parse(handle.parameterShapes()) as number[][];
    const parameters = handle.parameterNames().map((name, i) => ({ name, shape: shapes[i], count: shapes[i].reduce((a, b) => a * b, 1) }));
    const total = parameters.reduce((a, p) => a + p.count, 0);
    return { parameters, total, bytes: total * 4 };
  }

  compile(options: Seq2SeqCompileOptions): void {
    const handle = this.#live();
    if (typeof options !== 'object' || options === null) throw new ConfigError(`compile needs an options object, got ${describe(options)}`);
    knownKeys('compile', options, ['optimizer', 'schedule', 'seed', 'scheduled_sampling']);
    wasm(() => handle.compile(JSON.stringify(options)));
    this.#compiled = structuredClone(options);
  }

  cancel(): void {
    Atomics.store(this.#stop, 0, 1);
  }

  async fit(sources: PaddedTokens, targets: PaddedTokens, plan: Seq2SeqFitPlan, progress?: (event: ProgressEvent) => unknown, epochEnd?: (log: EpochLog) => unknown): Promise<History> {
    this.#live();
    const stop = (this.#stop = plan.stop ?? new Int32Array(1));
    if (!this.#compiled) throw new ConfigError('fit: compile the model first (optimizer)');
    const train = this.#pairs('fit', sources, targets);
    const validation = plan.validationData && this.#pairs('fit: validationData', plan.validationData[0], plan.validationData[1]);
    const history: History = { epochs: [], stopped: 'completed' };
    const epochs = new Epochs(plan.epochs, train.count, plan.batchSize, progress);
    const step = (indices: number[]) => {
      const part = train.gather(indices);
      return (JSON.parse(wasm(() => this.#live().trainBatch(part.count, part.source, part.sourceSteps, part.sourceLengths, part.target, part.targetSteps, part.targetLengths))) as { loss: number }).loss;
    };
    for (let epoch = 0; epoch < plan.epochs; epoch++) {
      const order = plan.shuffle ? Array.from(this.#live().shuffledOrder(train.count)) : [...Array(train.count).keys()];
      const loss = await epochs.run(epoch, order, step, () => stopRaised(stop));
      if (loss === undefined) {
        history.stopped = 'cancelled';
        break;
      }
      const log: EpochLog = { epoch, loss, metrics: {} };
      if (validation) {
        const { loss, ...metrics } = this.#evaluate(validation, 256, plan.maxLength ?? validation.targetSteps + 5);
        log.valLoss = loss;
        log.valMetrics = metrics;
      }
      history.epochs.push(log);
      await epochEnd?.(log);
    }
    return history;
  }

  evaluate(sources: PaddedTokens, targets: PaddedTokens, batchSize: number, maxLength?: number): Seq2SeqEvaluation {
    const pairs = this.#pairs('evaluate', sources, targets);
    return this.#evaluate(pairs, batchSize, maxLength ?? pairs.targetSteps + 5);
  }

  #evaluate(p: Pairs, batchSize: number, maxLength: number): Seq2SeqEvaluation {
    return JSON.parse(wasm(() => this.#live().evaluate(p.count, p.source, p.sourceSteps, p.sourceLengths, p.target, p.targetSteps, p.targetLengths, batchSize, maxLength))) as Seq2SeqEvaluation;
  }

  /** Greedy or beam-search outputs for a batch of sources, with their attention weights. */
  decode(sources: PaddedTokens, options: Required<DecodeOptions>): Decoded[] {
    const handle = this.#live();
    this.#check('decode: sources', sources, this.#facts.sourceVocab);
    const out = wasm(() => handle.decode(sources.lengths.length, sources.data, sources.steps, sources.lengths, options.maxLength, options.beamWidth, options.lengthPenalty));
    const [tokens, offsets, logProbs, scores, finished, attention, attentionOffsets] = [out.tokens, out.offsets, out.logProbs, out.scores, out.finished, out.attention, out.attentionOffsets];
    out.free();
    return Array.from(sources.lengths, (length, i) => {
      const weights = attention.slice(attentionOffsets[i], attentionOffsets[i + 1]);
      return {
        tokens: tokens.slice(offsets[i], offsets[i + 1]),
        finished: finished[i] === 1,
        logProb: logProbs[i],
        score: scores[i],
        attention: { data: weights, shape: [weights.length / length, length] as [number, number] },
      };
    });
  }

  save(includeOptimizer: boolean): Uint8Array {
    return encode({ topology: this.config, compile: this.#compiled, ...savedTensors(this.#live(), includeOptimizer && this.#compiled !== undefined) });
  }

  getWeights(): Record<string, Float32Array> {
    return readWeights(this.#live());
  }

  setWeights(weights: Record<string, Float32Array>): void {
    writeWeights(this.#live(), weights);
  }

  memoryUsage(): { wasmBytes: number } {
    this.#live();
    return { wasmBytes: this.wasmBytes() };
  }

  dispose(): void {
    this.#handle?.free();
    this.#handle = undefined;
  }

  /** Checks ids against the vocabularies and adds the end token to every target. */
  #pairs(op: string, sources: PaddedTokens, targets: PaddedTokens): Pairs {
    this.#check(`${op}: sources`, sources, this.#facts.sourceVocab);
    this.#check(`${op}: targets`, targets, this.#facts.targetVocab, true);
    const count = sources.lengths.length;
    if (targets.lengths.length !== count) throw new ShapeError(`${op}: ${count} sources but ${targets.lengths.length} targets`);
    const steps = targets.steps + 1;
    const target = new Uint32Array(count * steps);
    const lengths = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const n = targets.lengths[i];
      target.set(targets.data.subarray(i * targets.steps, i * targets.steps + n), i * steps);
      target[i * steps + n] = this.#facts.end;
      lengths[i] = n + 1;
    }
    return new Pairs(count, sources.data, sources.steps, sources.lengths, target, steps, lengths);
  }

  #check(what: string, t: PaddedTokens, vocab: number, emptyOk = false): void {
    if (t.lengths.length === 0) throw new ShapeError(`${what}: needs at least one sequence`);
    if (!emptyOk && t.lengths.some((l) => l === 0)) throw new ShapeError(`${what}: sequence ${t.lengths.findIndex((l) => l === 0)} is empty`);
    const bad = t.data.findIndex((id) => id >= vocab);
    if (bad >= 0) throw new ShapeError(`${what}: ids must be below the vocabulary size ${vocab}, got ${t.data[bad]} in sequence ${Math.floor(bad / Math.max(t.steps, 1))}`);
  }

  #live(): WasmSeq2Seq {
    if (!this.#handle) throw new DisposedError('this model was disposed');
    return this.#handle;
  }
}

/** Padded source and target batches that can be cut into mini-batches. */
class Pairs {
  constructor(
    readonly count: number,
    readonly source: Uint32Array,
    readonly sourceSteps: number,
    readonly sourceLengths: Uint32Array,
    readonly target: Uint32Array,
    readonly targetSteps: number,
    readonly targetLengths: Uint32Array,
  ) {}

  gather(indices: number[]): Pairs {
    const pick = (a: Uint32Array, per: number) => {
      const out = new Uint32Array(per * indices.length);
      indices.forEach((s, i) => out.set(a.subarray(s * per, (s + 1) * per), i * per));
      return out;
    };
    return new Pairs(indices.length, pick(this.source, this.sourceSteps), this.sourceSteps, pick(this.sourceLengths, 1), pick(this.target, this.targetSteps), this.targetSteps, pick(this.targetLengths, 1));
  }
}
