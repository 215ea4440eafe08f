// One-to-many: a whole sequence generated from a single input vector. The vector holds the
// frequency, phase and amplitude of a damped sine wave; the model writes the 40 steps of that
// wave. As with Keras' RepeatVector, the vector is given at every step and the LSTM unrolls it
// into the sequence. The baseline answers the average wave of the training set at every step.
//
//   node examples/one-to-many.js           full run        node examples/one-to-many.js --quick
import { mkdir, writeFile } from 'node:fs/promises';
import { sequential } from '../dist/node/index.js';
import { lehmer } from './data.js';
import { linePlot } from './plot.js';

const QUICK = process.argv.includes('--quick');
const STEPS = 40;
const EPOCHS = QUICK ? 20 : 60;
const OUT = new URL('./output/', import.meta.url);

const random = lehmer(21);
function waves(n) {
  const x = new Float32Array(n * STEPS * 3);
  const y = new Float32Array(n * STEPS);
  for (let s = 0; s < n; s++) {
    const [frequency, phase, amplitude] = [0.1 + 0.3 * random(), 2 * Math.PI * random(), 0.5 + random()];
    for (let t = 0; t < STEPS; t++) {
      x.set([frequency, phase / (2 * Math.PI), amplitude], (s * STEPS + t) * 3);
      y[s * STEPS + t] = amplitude * Math.exp(-t / 60) * Math.sin(frequency * t + phase);
    }
  }
  return { x: { data: x, shape: [n, STEPS, 3] }, y: { data: y, shape: [n, STEPS, 1] } };
}
const train = waves(QUICK ? 600 : 2000);
const test = waves(200);

const model = await sequential([{ type: 'lstm', units: 48, return_sequences: true }, { type: 'dense', units: 1 }], { input: 3, seed: 1 });
await model.compile({ loss: 'mse', optimizer: { type: 'adam', learning_rate: 0.005, global_clipnorm: 1 }, metrics: ['mae'], seed: 1 });
const started = performance.now();
await model.fit(train.x, train.y, { epochs: EPOCHS, batchSize: 32 });
const { loss } = await model.evaluate(test.x, test.y);

// The baseline: the training set's mean at every step.
const mean = Array.from({ length: STEPS }, (_, t) => {
  let sum = 0;
  for (let s = 0; s < train.y.shape[0]; s++) sum += train.y.data[s * STEPS + t];
  return sum / train.y.shape[0];
});
let baseline = 0;
for (let s = 0; s < 200; s++) for (let t = 0; t < STEPS; t++) baseline += (test.y.data[s * STEPS + t] - mean[t]) ** 2;
baseline /= 200 * STEPS;
console.log(`a damped sine wave of ${STEPS} steps from (frequency, phase, amplitude); ${train.y.shape[0]} training waves, ${EPOCHS} epochs, ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`test MSE: LSTM ${loss.toFixed(4)}, average wave ${baseline.toFixed(4)}`);

const out = await model.predict(test.x);
await mkdir(OUT, { recursive: true });
await writeFile(new URL('one-to-many.svg', OUT), linePlot({
  title: `Generated from one vector: two test waves (test MSE ${loss.toFixed(4)}, average wave ${baseline.toFixed(4)})`,
  x: Array.from({ length: STEPS }, (_, t) => String(t)),
  series: [0, 1].flatMap((s) => [
    { name: `wave ${s + 1}`, values: Array.from(test.y.data.subarray(s * STEPS, (s + 1) * STEPS)), colour: s ? '#1f77b4' : '#222' },
    { name: `generated ${s + 1}`, values: Array.from(out.data.subarray(s * STEPS, (s + 1) * STEPS)), colour: s ? '#ff7f0e' : '#d62728' },
  ]),
  yLabel: 'value',
}));
console.log('wrote examples/output/one-to-many.svg');
await model.dispose();
if (!(loss < baseline / 3)) {
  console.error('the generated waves are not clearly better than the average wave');
  process.exit(1);
}
