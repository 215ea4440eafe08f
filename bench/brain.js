// brain.js where it can express a workload. It has no batches, so each repetition times a few
// sequences and scales to the workload's batch; its time-step networks predict a vector as wide
// as their input, so W1–W3 end in an input-wide output layer where the others have Dense(1).
import brain from 'brain.js';

/** How many sequences one repetition times (the rest of the batch is extrapolated). */
const SAMPLE = 2;

function vector(n, seed) {
  return Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) / 2);
}

function timeStepNet(w) {
  const Net = w.cell === 'gru' ? brain.recurrent.GRUTimeStep : brain.recurrent.LSTMTimeStep;
  return new Net({ inputSize: w.input, hiddenLayers: [w.hidden], outputSize: w.input });
}

/** Times `run(sequences)` over `sample` of the `batch` sequences and scales to the batch. */
function sampled(batch, run) {
  const sample = Math.min(SAMPLE, batch);
  return {
    async rep() {
      const start = performance.now();
      run(sample);
      return ((performance.now() - start) * batch) / sample;
    },
    async dispose() {},
  };
}

export function brainjs() {
  return {
    name: 'brain.js',
    async describe() {
      return `plain JS, one sequence at a time (no batches): each repetition times ${SAMPLE} sequences and scales to the batch; time-step networks end in an input-wide output layer instead of Dense(1)`;
    },
    async build(w) {
      if (w.kind === 'charlm') {
        // Embedding(vocab, dim) is brain's inputSize (the embedding width) with an input range of
        // the vocabulary, which it reads off the training strings.
        const alphabet = Array.from({ length: w.vocab }, (_, i) => String.fromCharCode(48 + i));
        const text = (seed) => Array.from({ length: w.steps }, (_, i) => alphabet[(i * 7 + seed) % w.vocab]).join('');
        const corpus = [alphabet.join(''), ...Array.from({ length: w.batch }, (_, b) => text(b))];
        const net = new brain.recurrent.LSTM({ inputSize: w.embedding, hiddenLayers: [w.hidden] });
        net.train(corpus.slice(0, 1), { iterations: 1 });
        return sampled(w.batch, (n) => net.train(corpus.slice(1, 1 + n), { iterations: 1 }));
      }
      const sequence = (length, seed) => Array.from({ length }, (_, t) => vector(w.input, seed + t));
      const net = timeStepNet(w);
      // brain.js sizes its network on the first training data.
      net.train([{ input: sequence(2, 0), output: [vector(w.input, 9)] }], { iterations: 1 });
      if (w.kind === 'stream') {
        // No state is carried between calls: a call is a one-step sequence from zeros.
        const x = [vector(w.input, 1)];
        return { step: async () => net.run(x), dispose: async () => {} };
      }
      if (w.kind === 'sequence') {
        const xs = Array.from({ length: Math.min(SAMPLE, w.batch) }, (_, b) => sequence(w.steps, b));
        return sampled(w.batch, (n) => xs.slice(0, n).forEach((x) => net.run(x)));
      }
      const data = Array.from({ length: Math.min(SAMPLE, w.batch) }, (_, b) => ({ input: sequence(w.steps, b), output: [vector(w.input, 100 + b)] }));
      return sampled(w.batch, (n) => net.train(data.slice(0, n), { iterations: 1 }));
    },
  };
}
