// The mini-batch loop of `fit`, shared by every kind of model: each batch is trained, progress
// is reported (throttled, awaited so that a worker's caller sees every event before fit
// resolves), and the event loop gets a turn now and then so that a cancel() can arrive.
import type { ProgressEvent } from './types.js';

/** Whether a fit's stop flag (see `Held.cancellable`) has been raised. */
export function stopRaised(stop: Int32Array): boolean {
  return Atomics.load(stop, 0) !== 0;
}

export class Epochs {
  readonly #started = Date.now();
  #done = 0;
  #lastReport = 0;
  #lastYield = Date.now();

  constructor(
    private readonly epochs: number,
    private readonly samples: number,
    private readonly batchSize: number,
    private readonly progress?: (event: ProgressEvent) => unknown,
  ) {}

  /**
   * One epoch over the samples in `order`; `train` takes a batch's sample indices and returns
   * its mean loss. Resolves to the epoch's mean loss, or undefined when `cancelled()` stopped it.
   */
  async run(epoch: number, order: number[], train: (indices: number[]) => number, cancelled: () => boolean): Promise<number | undefined> {
    const batches = Math.ceil(order.length / this.batchSize);
    let [lossSum, seen] = [0, 0];
    for (let b = 0; b < batches; b++) {
      const indices = order.slice(b * this.batchSize, (b + 1) * this.batchSize);
      lossSum += train(indices) * indices.length;
      seen += indices.length;
      this.#done += indices.length;
      const now = Date.now();
      if (this.progress && (now - this.#lastReport > 100 || b === batches - 1)) {
        this.#lastReport = now;
        const rate = this.#done / Math.max((now - this.#started) / 1000, 1e-3);
        await this.progress({ epoch, epochs: this.epochs, batch: b + 1, batches, loss: lossSum / seen, samplesPerSecond: rate, etaSeconds: (this.epochs * this.samples - this.#done) / rate });
      }
      if (now - this.#lastYield > 30) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        this.#lastYield = Date.now();
      }
      if (cancelled()) return undefined;
    }
    return lossSum / seen;
  }
}
