// The systems the model workloads run on, each behind the same small interface:
//   build(workload) → { step(): Promise<void>, dispose(): Promise<void> }
// where one `step` is one unit of the workload (one streamed time step, one batch of sequences,
// one training step). seqwasm runs through its public API; TF.js through its layers API.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { sequential } from '../dist/node/index.js';

const require = createRequire(import.meta.url);

function values(n, seed = 1) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 12.9898 + seed) / 2;
  return out;
}

function ids(n, vocab) {
  return Uint32Array.from({ length: n }, (_, i) => (i * 7 + 3) % vocab);
}

/** seqwasm in one placement: `{ worker, threads, relaxedSimd }`. */
export function seqwasm(placement) {
  const build = `${placement.relaxedSimd ? 'relaxed ' : ''}${placement.threads === 1 ? 'simd, 1 thread' : `threads, ${placement.threads}`}`;
  return {
    name: `seqwasm ${placement.worker ? 'worker' : 'inline'} ${build}`,
    relaxed: placement.relaxedSimd === true,
    async build(w) {
      const cell = w.cell;
      if (w.kind === 'stream') {
        const model = await sequential([{ type: cell, units: w.hidden, return_sequences: true }], { input: w.input, ...placement });
        const stream = model.stream();
        const x = { data: values(w.input), shape: [1, w.input] };
        return { step: () => stream.step(x), dispose: () => model.dispose() };
      }
      if (w.kind === 'sequence') {
        const model = await sequential([{ type: cell, units: w.hidden }], { input: w.input, ...placement });
        const x = { data: values(w.batch * w.steps * w.input), shape: [w.batch, w.steps, w.input] };
        return { step: () => model.predict(x, { batchSize: w.batch }), dispose: () => model.dispose() };
      }
      if (w.kind === 'train') {
        const model = await sequential([{ type: cell, units: w.hidden }, { type: 'dense', units: 1 }], { input: w.input, ...placement });
        await model.compile({ loss: 'mse', optimizer: 'adam' });
        const x = { data: values(w.batch * w.steps * w.input), shape: [w.batch, w.steps, w.input] };
        const y = { data: values(w.batch, 2), shape: [w.batch, 1] };
        return { step: () => model.fit(x, y, { epochs: 1, batchSize: w.batch, shuffle: false }), dispose: () => model.dispose() };
      }
      // The character language model.
      const model = await sequential(
        [{ type: 'embedding', vocab: w.vocab, dim: w.embedding }, { type: 'lstm', units: w.hidden, return_sequences: true }, { type: 'dense', units: w.vocab }],
        placement,
      );
      await model.compile({ loss: { type: 'sparse_categorical_crossentropy', from_logits: true }, optimizer: 'adam' });
      const x = { data: ids(w.batch * w.steps, w.vocab), shape: [w.batch, w.steps] };
      const y = { data: ids(w.batch * w.steps, w.vocab).map((v) => (v + 1) % w.vocab), shape: [w.batch, w.steps] };
      return { step: () => model.fit(x, y, { epochs: 1, batchSize: w.batch, shuffle: false }), dispose: () => model.dispose() };
    },
  };
}

let tfLoaded;
async function loadTf(backend) {
  tfLoaded ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    return tf;
  })();
  const tf = await tfLoaded;
  await tf.setBackend(backend);
  await tf.ready();
  return tf;
}

/** TF.js (layers API) on its `cpu` or `wasm` backend. */
export function tfjs(backend) {
  return {
    name: `TF.js ${backend}`,
    async describe() {
      const tf = await loadTf(backend);
      if (backend !== 'wasm') return 'plain JS';
      const features = `SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'on' : 'off'}`;
      return `${features}; W4 takes one-hot tokens into Dense(64) without bias in place of Embedding, whose gradient kernel (UnsortedSegmentSum) this backend lacks`;
    },
    async build(w) {
      const tf = await loadTf(backend);
      // Glorot rather than the default orthogonal recurrent weights: TF.js's orthogonal initializer
      // takes minutes on these sizes in plain JS, and the weights' values do not change the timing.
      const layer = (options) => { const o = { recurrentInitializer: 'glorotUniform', ...options }; return w.cell === 'gru' ? tf.layers.gru(o) : tf.layers.lstm(o); };
      const model = tf.sequential();
      let x;
      let y;
      let step;
      if (w.kind === 'stream') {
        model.add(layer({ units: w.hidden, stateful: true, batchInputShape: [1, 1, w.input] }));
        x = tf.tensor3d(values(w.input), [1, 1, w.input]);
        step = async () => tf.tidy(() => model.predict(x)).data();
      } else if (w.kind === 'sequence') {
        model.add(layer({ units: w.hidden, inputShape: [w.steps, w.input] }));
        x = tf.tensor3d(values(w.batch * w.steps * w.input), [w.batch, w.steps, w.input]);
        step = async () => {
          const out = model.predict(x, { batchSize: w.batch });
          await out.data();
          out.dispose();
        };
      } else if (w.kind === 'train') {
        model.add(layer({ units: w.hidden, inputShape: [w.steps, w.input] }));
        model.add(tf.layers.dense({ units: 1 }));
        model.compile({ loss: 'meanSquaredError', optimizer: tf.train.adam() });
        x = tf.tensor3d(values(w.batch * w.steps * w.input), [w.batch, w.steps, w.input]);
        y = tf.tensor2d(values(w.batch, 2), [w.batch, 1]);
        step = () => model.trainOnBatch(x, y);
      } else {
        const tokens = ids(w.batch * w.steps, w.vocab);
        if (backend === 'wasm') {
          // The wasm backend has no kernel for the embedding's gradient (UnsortedSegmentSum): the
          // same function as one-hot tokens into Dense(dim) without bias, ~1% more flops.
          model.add(tf.layers.dense({ units: w.embedding, useBias: false, inputShape: [w.steps, w.vocab] }));
          const oneHot = new Float32Array(tokens.length * w.vocab);
          tokens.forEach((t, i) => (oneHot[i * w.vocab + t] = 1));
          x = tf.tensor3d(oneHot, [w.batch, w.steps, w.vocab]);
        } else {
          model.add(tf.layers.embedding({ inputDim: w.vocab, outputDim: w.embedding, inputLength: w.steps }));
          x = tf.tensor2d(Float32Array.from(tokens), [w.batch, w.steps]);
        }
        model.add(layer({ units: w.hidden, returnSequences: true }));
        model.add(tf.layers.dense({ units: w.vocab, activation: 'softmax' }));
        model.compile({ loss: 'sparseCategoricalCrossentropy', optimizer: tf.train.adam() });
        y = tf.tensor3d(Float32Array.from(ids(w.batch * w.steps, w.vocab).map((v) => (v + 1) % w.vocab)), [w.batch, w.steps, 1]);
        step = () => model.trainOnBatch(x, y);
      }
      return {
        step,
        async dispose() {
          model.dispose();
          x.dispose();
          y?.dispose();
        },
      };
    },
  };
}
