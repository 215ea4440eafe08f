// The forget gate on a continual stream (Gers, Schmidhuber and Cummins, 2000): embedded Reber
// strings follow one another with no reset between them, and the model predicts the next
// symbol. Remembering across an inner string which branch (T or P) the outer string took is the
// long-term dependency. An LSTM without a forget gate cannot empty its cells, so on an endless
// stream their state keeps growing and the predictions break down; with the forget gate the
// cells reset themselves at the string boundaries it learns.
//
//   node examples/forget-gate.js           full run        node examples/forget-gate.js --quick
import { sequential } from '../dist/node/index.js';
import { lehmer } from './data.js';

const QUICK = process.argv.includes('--quick');
const SYMBOLS = 'BTPSXVE';
// Reber's grammar: from each node, the symbols it may emit and the node they lead to (6 ends).
const REBER = [[['T', 1], ['P', 2]], [['S', 1], ['X', 3]], [['T', 2], ['V', 4]], [['X', 2], ['S', 5]], [['P', 3], ['V', 5]]];

const random = lehmer(17);
const pick = (options) => options[Math.floor(random() * options.length)];

/** One embedded Reber string: its symbols and, for each, the set of symbols that may follow it. */
function embedded() {
  const branch = pick(['T', 'P']);
  const symbols = ['B', branch, 'B'];
  const next = [['T', 'P'], ['B'], ['T', 'P']];
  let node = 0;
  while (node !== 5) {
    const [symbol, to] = pick(REBER[node]);
    symbols.push(symbol);
    next.push(to === 5 ? ['E'] : REBER[to].map(([s]) => s));
    node = to;
  }
  // The inner string's E, then the branch again (the long-term dependency), then the final E,
  // after which the next string's B is certain.
  symbols.push('E', branch, 'E');
  next.push([branch], ['E'], ['B']);
  return { symbols, next };
}

/** `n` strings one after another as one stream of ids, with each step's set of possible next ids. */
function stream(n) {
  const ids = [];
  const possible = [];
  const strings = [];
  for (let i = 0; i < n; i++) {
    const s = embedded();
    strings.push(ids.length);
    s.symbols.forEach((c, t) => {
      ids.push(SYMBOLS.indexOf(c));
      possible.push(new Set(s.next[t].map((p) => SYMBOLS.indexOf(p))));
    });
  }
  return { ids, possible, strings };
}

const train = stream(QUICK ? 1500 : 4000);
const test = stream(QUICK ? 2000 : 10000);
console.log(`continual embedded Reber grammar: ${train.ids.length} training steps, a test stream of ${test.ids.length} steps (${test.strings.length} strings), never reset`);

const results = {};
for (const [name, forgetGate] of [['LSTM with forget gate', true], ['LSTM without forget gate', false]]) {
  const model = await sequential(
    [{ type: 'embedding', vocab: 7, dim: 8 }, { type: 'lstm', units: 16, return_sequences: true, forget_gate: forgetGate, ...(forgetGate ? {} : { forget_bias: 0 }) }, { type: 'dense', units: 7 }],
    { seed: 2 },
  );
  await model.compile({ loss: { type: 'sparse_categorical_crossentropy', from_logits: true }, optimizer: { type: 'adam', learning_rate: 0.01, global_clipnorm: 1 }, seed: 1 });
  const x = Uint32Array.from(train.ids.slice(0, -1));
  const y = Uint32Array.from(train.ids.slice(1));
  await model.fit({ data: x, shape: [1, x.length] }, { data: y, shape: [1, y.length] }, { epochs: QUICK ? 3 : 6, tbptt: { k1: 25, k2: 50 } });
  // The whole test stream, statefully, a block of steps per call.
  const stream = model.stream();
  const right = new Uint8Array(test.ids.length);
  for (let start = 0; start < test.ids.length; start += 1000) {
    const block = Uint32Array.from(test.ids.slice(start, start + 1000));
    const { data } = await stream.step({ data: block, shape: [1, block.length] });
    for (let t = 0; t < block.length; t++) {
      const logits = data.subarray(t * 7, (t + 1) * 7);
      const max = Math.max(...logits);
      const total = logits.reduce((a, v) => a + Math.exp(v - max), 0);
      const predicted = [...logits.keys()].filter((k) => Math.exp(logits[k] - max) / total > 0.25);
      const want = test.possible[start + t];
      right[start + t] = predicted.length === want.size && predicted.every((k) => want.has(k)) ? 1 : 0;
    }
  }
  // A string is right when every one of its steps is.
  const bounds = [...test.strings, test.ids.length];
  const ok = test.strings.map((s, i) => right.subarray(s, bounds[i + 1]).every((v) => v === 1));
  const tenth = Math.floor(ok.length / 10);
  const share = (part) => (100 * part.filter(Boolean).length) / part.length;
  results[name] = { all: share(ok), first: share(ok.slice(0, tenth)), last: share(ok.slice(-tenth)), steps: share(Array.from(right, Boolean)) };
  const r = results[name];
  console.log(`  ${name.padEnd(26)} strings right: ${r.all.toFixed(1)}% of the stream (first tenth ${r.first.toFixed(1)}%, last tenth ${r.last.toFixed(1)}%); steps right: ${r.steps.toFixed(1)}%`);
  await model.dispose();
}
const [withF, withoutF] = [results['LSTM with forget gate'], results['LSTM without forget gate']];
if (!(withF.all > 90 && withF.all > withoutF.all + 20)) {
  console.error('expected the forget gate to keep the stream right far longer than the LSTM without it');
  process.exit(1);
}
