// The main job of `make demo`: an LSTM forecaster of the monthly CO2 concentration at Mauna Loa
// (the series shipped by the npm package vega-datasets), trained in a worker.
//
// The model reads the month-to-month changes of the last WINDOW months and predicts next
// month's change at every step (one output per step, so it can also be streamed). The forecast
// is the last value plus the predicted change. The last 20% of the months are held out; the
// test RMSE is measured one month ahead, against the naive forecast (next = this month) and the
// seasonal-naive one (next = the same month a year earlier).
//
//   node examples/forecast-co2.js           the full run (writes examples/output/)
//   node examples/forecast-co2.js --quick   fewer epochs, what `make test` runs
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadModel, sequential } from '../dist/node/index.js';
import { linePlot } from './plot.js';

const QUICK = process.argv.includes('--quick');
const WINDOW = 36;
const EPOCHS = QUICK ? 25 : 80;
const OUT = new URL('./output/', import.meta.url);

// The series: one value per month, from 1958.
const csv = await readFile(new URL('../node_modules/vega-datasets/data/co2-concentration.csv', import.meta.url), 'utf8');
const rows = csv.trim().split('\n').slice(1).map((line) => line.split(','));
const dates = rows.map((r) => r[0]);
const co2 = rows.map((r) => Number(r[1]));
const changes = co2.slice(1).map((v, i) => v - co2[i]);
const scale = Math.sqrt(changes.reduce((a, d) => a + d * d, 0) / changes.length);
const firstTest = Math.floor(co2.length * 0.8);
console.log(`CO2 at Mauna Loa: ${co2.length} months, ${dates[0]} to ${dates.at(-1)}; test from ${dates[firstTest]} (${co2.length - firstTest} months)`);

// Windows of WINDOW changes; the target at each step is the change that follows it.
// changes[i] is co2[i + 1] − co2[i]; the window ending at change e forecasts co2[e + 2].
function windows(lastChanges) {
  const x = new Float32Array(lastChanges.length * WINDOW);
  const y = new Float32Array(lastChanges.length * WINDOW);
  lastChanges.forEach((e, n) => {
    for (let t = 0; t < WINDOW; t++) {
      x[n * WINDOW + t] = changes[e - WINDOW + 1 + t] / scale;
      y[n * WINDOW + t] = changes[e - WINDOW + 2 + t] / scale;
    }
  });
  return { x: { data: x, shape: [lastChanges.length, WINDOW, 1] }, y: { data: y, shape: [lastChanges.length, WINDOW, 1] } };
}
// Training windows end before the test period; each test month m is forecast from the
// window of changes ending at change m − 2 (all known at month m − 1).
const trainEnds = [];
for (let e = WINDOW - 1; e + 2 < firstTest; e++) trainEnds.push(e);
const testMonths = [];
for (let m = firstTest; m < co2.length; m++) testMonths.push(m);
const train = windows(trainEnds);

const model = await sequential(
  [{ type: 'lstm', units: 32, return_sequences: true }, { type: 'dense', units: 1 }],
  { input: 1, seed: 1 }, // in a worker: the default placement
);
await model.compile({ loss: 'mse', optimizer: { type: 'adam', learning_rate: 0.005, global_clipnorm: 1 }, schedule: { type: 'cosine', decay_steps: EPOCHS * Math.ceil(trainEnds.length / 32) }, seed: 1 });
const summary = await model.summary();
console.log(`model: ${summary.layers.map((l) => l.kind).join(' → ')}, ${summary.parameters} parameters\n`);

const started = performance.now();
const history = await model.fit(train.x, train.y, {
  epochs: EPOCHS,
  batchSize: 32,
  validationSplit: 0.1,
  onProgress: (e) => bar(e),
});
process.stdout.write('\n');
console.log(`trained ${history.epochs.length} epochs in ${((performance.now() - started) / 1000).toFixed(1)} s; final loss ${history.epochs.at(-1).loss.toFixed(4)}, validation ${history.epochs.at(-1).valLoss.toFixed(4)}`);

// One-month-ahead forecasts over the test period, all windows in one batched call.
async function forecast(m) {
  const test = windows(testMonths.map((month) => month - 2));
  const out = await m.predict(test.x);
  return testMonths.map((month, n) => co2[month - 1] + out.data[n * WINDOW + WINDOW - 1] * scale);
}
const predicted = await forecast(model);
const actual = testMonths.map((m) => co2[m]);
const rmse = (f) => Math.sqrt(f.reduce((a, v, i) => a + (v - actual[i]) ** 2, 0) / f.length);
const results = [
  ['LSTM (seqwasm)', rmse(predicted)],
  ['naive (last month)', rmse(testMonths.map((m) => co2[m - 1]))],
  ['seasonal naive (a year ago)', rmse(testMonths.map((m) => co2[m - 12]))],
];
console.log('\none-month-ahead test RMSE (ppm)');
for (const [name, value] of results) console.log(`  ${name.padEnd(28)} ${value.toFixed(3)}`);

await mkdir(OUT, { recursive: true });
const svg = linePlot({
  title: `CO2 at Mauna Loa, one month ahead: LSTM test RMSE ${results[0][1].toFixed(2)} ppm (naive ${results[1][1].toFixed(2)}, seasonal naive ${results[2][1].toFixed(2)})`,
  x: testMonths.map((m) => dates[m]),
  series: [
    { name: 'actual', values: actual, colour: '#222' },
    { name: 'LSTM forecast', values: predicted, colour: '#d62728' },
  ],
  yLabel: 'CO2 (ppm)',
});
await writeFile(new URL('co2-forecast.svg', OUT), svg);

// Save, load again, and stream: the loaded model reads one month at a time, its state kept
// inside wasm, and forecasts the next month after each.
const bytes = await model.save();
await writeFile(new URL('co2-lstm.safetensors', OUT), bytes);
await model.dispose();
const loaded = await loadModel(bytes);
const again = await forecast(loaded);
const same = again.every((v, i) => v === predicted[i]);
console.log(`\nsaved ${bytes.length} bytes (weights and Adam state) to examples/output/co2-lstm.safetensors; the loaded model gives the same forecasts: ${same}`);
const stream = loaded.stream();
const last = testMonths.slice(-6);
const from = last[0] - 1 - WINDOW;
let next = 0;
for (let e = from; e < last[0] - 1; e++) next = (await stream.step([[changes[e] / scale]])).data[0];
console.log('streamed one-step-ahead forecasts from the loaded model:');
for (const m of last) {
  const value = co2[m - 1] + next * scale;
  console.log(`  ${dates[m]}  forecast ${value.toFixed(2)}  actual ${co2[m].toFixed(2)}`);
  next = (await stream.step([[changes[m - 1] / scale]])).data[0];
}
await loaded.dispose();
console.log('\nwrote examples/output/co2-forecast.svg');

const beats = results[0][1] < results[1][1] && results[0][1] < results[2][1];
if (!beats || !same) {
  console.error(beats ? 'the loaded model did not give the same forecasts' : 'the LSTM did not beat both baselines');
  process.exit(1);
}

function bar({ epoch, epochs, batch, batches, loss, etaSeconds }) {
  // Without a terminal, one line every 10 epochs.
  if (!process.stdout.isTTY && (batch !== batches || ((epoch + 1) % 10 !== 0 && epoch + 1 !== epochs))) return;
  const done = (epoch + batch / batches) / epochs;
  const width = 30;
  const filled = Math.round(done * width);
  const line = `epoch ${String(epoch + 1).padStart(3)}/${epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] loss ${loss.toFixed(4)} eta ${etaSeconds.toFixed(0)} s`;
  process.stdout.write(process.stdout.isTTY ? `\r${line}` : `${line}\n`);
}
