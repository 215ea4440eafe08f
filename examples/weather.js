// Many-to-one classification: tomorrow's weather in Seattle (rain, sun, fog, drizzle, snow) from
// the past 14 days (precipitation, temperatures, wind and the weather of each day), from
// vega-datasets' seattle-weather series. The LSTM is compared with always predicting the most
// common class and with a memory-less model: a one-hidden-layer MLP over the same 14-day
// window (a Conv1D whose kernel spans the whole window is exactly that).
//
//   node examples/weather.js           full run        node examples/weather.js --quick
import { readFile } from 'node:fs/promises';
import { sequential } from '../dist/node/index.js';

const QUICK = process.argv.includes('--quick');
const EPOCHS = QUICK ? 15 : 60;
const DAYS = 14;

const csv = await readFile(new URL('../node_modules/vega-datasets/data/seattle-weather.csv', import.meta.url), 'utf8');
const rows = csv.trim().split('\n').slice(1).map((l) => l.split(','));
const classes = ['rain', 'sun', 'fog', 'drizzle', 'snow'];
const numeric = rows.map((r) => r.slice(1, 5).map(Number));
// Standardise the four measurements with the training part's statistics.
const firstTest = Math.floor(rows.length * 0.8);
const mean = [0, 1, 2, 3].map((f) => numeric.slice(0, firstTest).reduce((a, r) => a + r[f], 0) / firstTest);
const std = [0, 1, 2, 3].map((f) => Math.sqrt(numeric.slice(0, firstTest).reduce((a, r) => a + (r[f] - mean[f]) ** 2, 0) / firstTest));
const features = rows.map((r, i) => [...numeric[i].map((v, f) => (v - mean[f]) / std[f]), ...classes.map((c) => (r[5] === c ? 1 : 0))]);
const label = rows.map((r) => classes.indexOf(r[5]));
const F = features[0].length;

function windows(days) {
  const x = new Float32Array(days.length * DAYS * F);
  days.forEach((d, n) => features.slice(d - DAYS, d).forEach((f, t) => x.set(f, (n * DAYS + t) * F)));
  return { data: x, shape: [days.length, DAYS, F] };
}
const trainDays = [];
for (let d = DAYS; d < firstTest; d++) trainDays.push(d);
const testDays = [];
for (let d = firstTest; d < rows.length; d++) testDays.push(d);
const xTrain = windows(trainDays);
const xTest = windows(testDays);
const yTrain = { data: Uint32Array.from(trainDays, (d) => label[d]), shape: [trainDays.length] };
const yTest = { data: Uint32Array.from(testDays, (d) => label[d]), shape: [testDays.length] };
console.log(`${rows.length} days; predicting day d from days d−14 … d−1; test on the last ${testDays.length} days`);

const counts = classes.map((_, c) => trainDays.filter((d) => label[d] === c).length);
const majority = counts.indexOf(Math.max(...counts));
const majorityAccuracy = testDays.filter((d) => label[d] === majority).length / testDays.length;

const compile = { loss: { type: 'sparse_categorical_crossentropy', from_logits: true }, optimizer: { type: 'adam', learning_rate: 0.003 }, metrics: ['accuracy'], seed: 1 };
async function trainAndTest(name, layers, yShape) {
  const model = await sequential(layers, { input: F, seed: 4 });
  await model.compile(compile);
  const reshape = (y) => ({ data: y.data, shape: yShape(y.shape[0]) });
  const history = await model.fit(xTrain, reshape(yTrain), { epochs: EPOCHS, batchSize: 32, validationSplit: 0.15, earlyStopping: { patience: 8, restoreBestWeights: true } });
  const result = await model.evaluate(xTest, reshape(yTest));
  const parameters = (await model.summary()).parameters;
  await model.dispose();
  console.log(`  ${name.padEnd(34)} ${(100 * result.metrics.accuracy).toFixed(1)}%   (${parameters} parameters, ${history.epochs.length} epochs)`);
  return result.metrics.accuracy;
}

console.log('\ntest accuracy');
console.log(`  ${`majority class (${classes[majority]})`.padEnd(34)} ${(100 * majorityAccuracy).toFixed(1)}%`);
const mlp = await trainAndTest('MLP over the 14-day window', [{ type: 'conv1d', filters: 32, kernel_size: DAYS, activation: 'relu' }, { type: 'dense', units: classes.length }], (n) => [n, 1]);
const lstm = await trainAndTest('LSTM (32 units) over the 14 days', [{ type: 'lstm', units: 32 }, { type: 'dense', units: classes.length }], (n) => [n]);

if (!(lstm > majorityAccuracy)) {
  console.error('the LSTM did not beat the majority class');
  process.exit(1);
}
console.log(lstm > mlp ? '\nthe LSTM beats both baselines' : '\nthe LSTM beats the majority class; the memory-less MLP does as well or better here (the weather of the last day or two carries most of the signal)');
