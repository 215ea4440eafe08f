// Many-to-many sequence labelling: every position of a sequence of random numbers is tagged 1
// when the next number is larger, 0 otherwise (the last position is tagged 0). The answer
// depends on the future, which a bidirectional LSTM reads and a one-directional one cannot: the
// latter can only guess from the value itself (a small value is probably followed by a larger
// one), which caps it near 75%.
//
//   node examples/labelling.js           full run        node examples/labelling.js --quick
import { sequential } from '../dist/node/index.js';
import { lehmer } from './data.js';

const QUICK = process.argv.includes('--quick');
const STEPS = 20;
const EPOCHS = QUICK ? 8 : 25;

const random = lehmer(9);
function sequences(n) {
  const x = Float32Array.from({ length: n * STEPS }, random);
  const y = new Float32Array(n * STEPS);
  for (let s = 0; s < n; s++) for (let t = 0; t < STEPS - 1; t++) y[s * STEPS + t] = x[s * STEPS + t + 1] > x[s * STEPS + t] ? 1 : 0;
  return { x: { data: x, shape: [n, STEPS, 1] }, y: { data: y, shape: [n, STEPS, 1] } };
}
const train = sequences(QUICK ? 1000 : 4000);
const test = sequences(500);

console.log(`tag each of ${STEPS} positions: is the next number larger? (${train.x.shape[0]} training sequences, 500 test)`);
const results = {};
for (const [name, bidirectional] of [['one-directional LSTM', false], ['bidirectional LSTM', true]]) {
  const model = await sequential(
    [{ type: 'lstm', units: 24, return_sequences: true, bidirectional }, { type: 'dense', units: 1 }],
    { input: 1, seed: 3 },
  );
  await model.compile({ loss: { type: 'binary_crossentropy', from_logits: true }, optimizer: { type: 'adam', learning_rate: 0.01 }, metrics: ['accuracy'], seed: 2 });
  const started = performance.now();
  await model.fit(train.x, train.y, { epochs: EPOCHS, batchSize: 32 });
  const { metrics } = await model.evaluate(test.x, test.y);
  results[name] = metrics.accuracy;
  console.log(`  ${name.padEnd(22)} per-position test accuracy ${(100 * metrics.accuracy).toFixed(1)}%  (${(await model.summary()).parameters} parameters, ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  await model.dispose();
}
const [uni, bi] = [results['one-directional LSTM'], results['bidirectional LSTM']];
if (!(bi > 0.9 && bi > uni + 0.1)) {
  console.error('expected the bidirectional LSTM to beat the one-directional one clearly');
  process.exit(1);
}
