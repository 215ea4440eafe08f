// Truncated BPTT(k1, k2) on one long stream: the target at every step is the input from DELAY
// steps earlier, so the model must carry each value for DELAY steps. An update every k1 steps
// backpropagates through the last k2: with k2 ≤ DELAY the error of a target never reaches the
// input it needs, and the model cannot learn; with k2 > DELAY it can. The state is carried
// across windows in every case, so only k2 decides it.
//
//   node examples/tbptt.js           full run        node examples/tbptt.js --quick
import { sequential } from '../dist/node/index.js';
import { lehmer } from './data.js';

const QUICK = process.argv.includes('--quick');
const DELAY = 8;
const STREAMS = 8;
const LENGTH = QUICK ? 1200 : 4000;
const EPOCHS = QUICK ? 6 : 15;

const random = lehmer(5);
function stream(length) {
  const x = Float32Array.from({ length: STREAMS * length }, () => random() * 2 - 1);
  const y = new Float32Array(STREAMS * length);
  for (let s = 0; s < STREAMS; s++) for (let t = DELAY; t < length; t++) y[s * length + t] = x[s * length + t - DELAY];
  return { x: { data: x, shape: [STREAMS, length, 1] }, y: { data: y, shape: [STREAMS, length, 1] } };
}
const train = stream(LENGTH);
const test = stream(500);
// The variance of the target: what predicting 0 scores.
const baseline = 1 / 3;

console.log(`${STREAMS} streams of ${LENGTH} steps; target = the input ${DELAY} steps earlier; predicting 0 scores an MSE of ${baseline.toFixed(3)}`);
const results = [];
for (const [k1, k2] of [[4, 4], [4, 8], [4, 12], [12, 12], [4, 24]]) {
  const model = await sequential([{ type: 'gru', units: 24, return_sequences: true }, { type: 'dense', units: 1 }], { input: 1, seed: 2 });
  await model.compile({ loss: 'mse', optimizer: { type: 'adam', learning_rate: 0.01, global_clipnorm: 1 }, seed: 1 });
  const started = performance.now();
  await model.fit(train.x, train.y, { epochs: EPOCHS, tbptt: { k1, k2 } });
  const out = await model.predict(test.x);
  let sum = 0;
  let n = 0;
  for (let s = 0; s < STREAMS; s++) {
    for (let t = DELAY; t < 500; t++) {
      sum += (out.data[s * 500 + t] - test.y.data[s * 500 + t]) ** 2;
      n++;
    }
  }
  const mse = sum / n;
  results.push({ k1, k2, mse });
  console.log(`  TBPTT(k1 = ${String(k1).padStart(2)}, k2 = ${String(k2).padStart(2)}): test MSE ${mse.toFixed(4)}  ${k2 > DELAY ? '(k2 > delay)' : '(k2 ≤ delay)'}  ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await model.dispose();
}

const short = results.filter((r) => r.k2 <= DELAY);
const long = results.filter((r) => r.k2 > DELAY);
const learned = long.every((r) => r.mse < baseline / 4);
const stuck = short.every((r) => r.mse > baseline / 2);
console.log(learned && stuck ? `\nonly windows longer than the delay learn the task` : '\nunexpected: see the figures above');
if (!learned || !stuck) process.exit(1);
