// Vanishing gradients made visible, on the adding problem (Hochreiter and Schmidhuber 1997):
// each step carries a value and a marker, two steps are marked, and the target is the sum of
// the two marked values, the first of them far back. Always answering 1 gives an MSE of about
// 0.167. Elman, LSTM and GRU train on the same batches; the learning curves and the gradient
// flow (‖dL/dh_t‖ at every step t, from the model's diagnostics) are written as SVG plots.
//
//   node examples/vanishing-gradients.js           full run (T = 100)
//   node examples/vanishing-gradients.js --quick   T = 50, fewer updates
import { mkdir, writeFile } from 'node:fs/promises';
import { sequential } from '../dist/node/index.js';
import { addingProblem, lehmer } from './data.js';
import { linePlot } from './plot.js';

const QUICK = process.argv.includes('--quick');
const STEPS = QUICK ? 50 : 100;
const UPDATES = QUICK ? 500 : 1500;
const BATCH = 32;
const OUT = new URL('./output/', import.meta.url);

const random = lehmer(11);
const addingBatch = (n) => addingProblem(random, n, STEPS);
const batches = Array.from({ length: UPDATES }, () => addingBatch(BATCH));
const test = addingBatch(500);

const cells = [
  ['Elman (tanh)', { type: 'rnn', units: 32 }],
  ['LSTM', { type: 'lstm', units: 32 }],
  ['GRU', { type: 'gru', units: 32 }],
];
const curves = [];
const flows = [];
const finals = [];
console.log(`adding problem, T = ${STEPS}, ${UPDATES} updates of ${BATCH} sequences; test MSE of always answering 1 ≈ 0.167`);
for (const [name, layer] of cells) {
  const model = await sequential([layer, { type: 'dense', units: 1 }], { input: 2, seed: 1 });
  await model.compile({ loss: 'mse', optimizer: { type: 'adam', learning_rate: 0.01, global_clipnorm: 1 }, seed: 1 });
  const curve = [];
  const started = performance.now();
  for (let u = 0; u < UPDATES; u++) {
    await model.fit(batches[u].x, batches[u].y, { epochs: 1, batchSize: BATCH });
    if ((u + 1) % 50 === 0) curve.push((await model.evaluate(test.x, test.y)).loss);
  }
  const flow = (await model.diagnose(test.x, test.y)).stateNorms['0.l0'];
  curves.push({ name, values: curve });
  flows.push({ name, values: flow.map((v) => Math.log10(Math.max(v, 1e-30))) });
  finals.push([name, curve.at(-1), flow[0], flow.at(-1)]);
  console.log(`  ${name.padEnd(13)} test MSE ${curve.at(-1).toFixed(4)}   ‖dL/dh_0‖ ${flow[0].toExponential(1)}, ‖dL/dh_T‖ ${flow.at(-1).toExponential(1)}   (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  await model.dispose();
}

await mkdir(OUT, { recursive: true });
const colours = ['#1f77b4', '#d62728', '#2ca02c'];
await writeFile(new URL('adding-learning-curves.svg', OUT), linePlot({
  title: `Adding problem, T = ${STEPS}: test MSE every 50 updates`,
  x: curves[0].values.map((_, i) => String((i + 1) * 50)),
  series: curves.map((c, i) => ({ ...c, colour: colours[i] })),
  yLabel: 'test MSE',
}));
await writeFile(new URL('adding-gradient-flow.svg', OUT), linePlot({
  title: `Gradient flow after training: log10 ‖dL/dh_t‖ at every step t (the loss is at t = ${STEPS - 1})`,
  x: flows[0].values.map((_, t) => String(t)),
  series: flows.map((f, i) => ({ ...f, colour: colours[i] })),
  yLabel: 'log10 ‖dL/dh_t‖',
}));
console.log('wrote examples/output/adding-learning-curves.svg and adding-gradient-flow.svg');

const [elman, lstm] = finals;
if (!(lstm[1] < 0.05 && lstm[1] < elman[1] && elman[2] < lstm[2] / 100)) {
  console.error('expected the LSTM to learn where the Elman network does not, and its gradient to reach further back');
  process.exit(1);
}
