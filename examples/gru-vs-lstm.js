// GRU against LSTM on the same task (the adding problem at T = 50, the same batches), side by
// side: parameters, weight memory, training speed, inference speed and test error.
//
//   node examples/gru-vs-lstm.js           full run        node examples/gru-vs-lstm.js --quick
import { sequential } from '../dist/node/index.js';
import { addingProblem, lehmer } from './data.js';

const QUICK = process.argv.includes('--quick');
const STEPS = 50;
const UPDATES = QUICK ? 200 : 800;
const UNITS = QUICK ? 32 : 64;

const random = lehmer(3);
const addingBatch = (n) => addingProblem(random, n, STEPS);
const batches = Array.from({ length: UPDATES }, () => addingBatch(32));
const test = addingBatch(1000);

const rows = [];
for (const cell of ['lstm', 'gru']) {
  const model = await sequential([{ type: cell, units: UNITS }, { type: 'dense', units: 1 }], { input: 2, seed: 1 });
  await model.compile({ loss: 'mse', optimizer: { type: 'adam', learning_rate: 0.01, global_clipnorm: 1 }, seed: 1 });
  const summary = await model.summary();
  let start = performance.now();
  for (const b of batches) await model.fit(b.x, b.y, { epochs: 1, batchSize: 32 });
  const trainMs = (performance.now() - start) / UPDATES;
  start = performance.now();
  const { loss } = await model.evaluate(test.x, test.y, { batchSize: 1000 });
  const seqPerSecond = 1000 / ((performance.now() - start) / 1000);
  rows.push({ cell: cell.toUpperCase(), parameters: summary.parameters, 'weights (KiB)': +(summary.bytes / 1024).toFixed(1), 'ms per training step': +trainMs.toFixed(1), 'inference (seq/s)': Math.round(seqPerSecond), 'test MSE': +loss.toFixed(4) });
  await model.dispose();
}
console.log(`adding problem, T = ${STEPS}, ${UNITS} units, ${UPDATES} updates of 32 sequences, the same batches for both, in a worker (the default placement)`);
console.table(rows);
const [lstm, gru] = rows;
console.log(`GRU: ${(100 * gru.parameters / lstm.parameters).toFixed(0)}% of the LSTM's parameters, ${(lstm['ms per training step'] / gru['ms per training step']).toFixed(2)}× its training speed`);
// A side-by-side, not a race: it only checks that both ran and that one of them learned something.
if (!(gru.parameters < lstm.parameters && Math.min(lstm['test MSE'], gru['test MSE']) < 0.167)) process.exit(1);
