// A character-level language model of US city names (vega-datasets' zipcodes file): each name
// is read one character at a time and the model predicts the next, so it learns from the names
// alone. Held-out names measure bits per character and perplexity, against the unigram model
// (character frequencies, no context); samples are drawn at several temperatures.
//
//   node examples/char-lm.js           full run        node examples/char-lm.js --quick
import { readFile } from 'node:fs/promises';
import { sequential } from '../dist/node/index.js';
import { characterTask, cityNames } from './names.js';

const QUICK = process.argv.includes('--quick');
const EPOCHS = QUICK ? 2 : 5;

const csv = await readFile(new URL('../node_modules/vega-datasets/data/zipcodes.csv', import.meta.url), 'utf8');
const names = cityNames(csv);
const used = QUICK ? names.slice(0, 2500) : names;
const held = used.slice(0, Math.floor(used.length / 10));
const train = used.slice(held.length);
const { alphabet, id, steps, encode, text } = characterTask(used);
const trainData = encode(train);
const heldData = encode(held);
console.log(`${names.length} distinct city names, ${alphabet.length} symbols; training on ${train.length}, holding out ${held.length}`);

// The baseline: character frequencies of the training names (with '$'), no context.
const counts = new Map();
for (const name of train) for (const c of [...name, '$']) counts.set(c, (counts.get(c) ?? 0) + 1);
const total = [...counts.values()].reduce((a, b) => a + b, 0);
let unigramBits = 0;
let heldChars = 0;
for (const name of held) {
  for (const c of [...name, '$']) {
    unigramBits -= Math.log2((counts.get(c) ?? 0.5) / total);
    heldChars++;
  }
}
const unigram = unigramBits / heldChars;

const model = await sequential(
  [{ type: 'embedding', vocab: alphabet.length, dim: 16 }, { type: 'lstm', units: 128, return_sequences: true }, { type: 'dense', units: alphabet.length }],
  { seed: 2 },
);
await model.compile({ loss: { type: 'sparse_categorical_crossentropy', from_logits: true }, optimizer: { type: 'adam', learning_rate: 0.005, global_clipnorm: 1 }, metrics: ['bpc', 'perplexity'], seed: 3 });
const started = performance.now();
await model.fit(trainData.x, trainData.y, {
  epochs: EPOCHS,
  batchSize: 64,
  lengths: trainData.lengths,
  onEpochEnd: (log) => console.log(`epoch ${log.epoch + 1}/${EPOCHS}: loss ${log.loss.toFixed(3)} nats per character`),
});
console.log(`trained in ${((performance.now() - started) / 1000).toFixed(1)} s`);
const result = await model.evaluate(heldData.x, heldData.y, { lengths: heldData.lengths });
console.log(`\nheld-out names: ${result.metrics.bpc.toFixed(3)} bits per character (perplexity ${result.metrics.perplexity.toFixed(2)}); unigram baseline ${unigram.toFixed(3)} bits per character (perplexity ${(2 ** unigram).toFixed(2)})`);

for (const temperature of [0.5, 1.0, 1.5]) {
  const samples = [];
  for (let s = 0; s < 6; s++) {
    const out = await model.generate([id.get('^')], { length: steps, temperature, seed: 100 * temperature + s });
    samples.push(text(out));
  }
  console.log(`temperature ${temperature}: ${samples.join(', ')}`);
}
await model.dispose();

if (!(result.metrics.bpc < unigram)) {
  console.error('the model did not beat the unigram baseline');
  process.exit(1);
}
