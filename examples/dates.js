// Sequence to sequence with attention: dates written in many human formats ("Friday, March 12,
// 2021", "12.03.2021", "the 12th of march 2021", …) turned into ISO dates ("2021-03-12"),
// character by character. The dates and their formats are made in code; the test dates are
// ones the model never saw. The same encoder-decoder without attention (the decoder sees only
// the encoder's final state) is trained the same way beside it, and an attention heatmap shows
// which source characters each output character looked at.
//
//   node examples/dates.js           full run        node examples/dates.js --quick
import { mkdirSync, writeFileSync } from 'node:fs';
import { encoderDecoder } from '../dist/node/index.js';
import { lehmer } from './data.js';
import { heatmap } from './plot.js';

const QUICK = process.argv.includes('--quick');
const EPOCHS = QUICK ? 2 : 10;
const TRAIN = QUICK ? 4000 : 12000;
const TEST = 1000;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const pad = (n) => String(n).padStart(2, '0');
const ordinal = (d) => `${d}${d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th'}`;
const FORMATS = [
  (d) => `${d.day} ${d.month} ${d.year}`,
  (d) => `${d.month} ${d.day}, ${d.year}`,
  (d) => `${pad(d.day)}.${pad(d.m)}.${d.year}`,
  (d) => `${pad(d.m)}/${pad(d.day)}/${d.year}`,
  (d) => `${d.month.slice(0, 3)} ${d.day} ${d.year}`,
  (d) => `${d.weekday}, ${d.month} ${d.day}, ${d.year}`,
  (d) => `the ${ordinal(d.day)} of ${d.month} ${d.year}`,
  (d) => `${d.year}/${pad(d.m)}/${pad(d.day)}`,
  (d) => `${d.day}-${d.month.slice(0, 3)}-${d.year}`,
  (d) => `${d.weekday.slice(0, 3)} ${d.day} ${d.month.slice(0, 3)} ${d.year}`,
];
const CASES = [(s) => s, (s) => s.toLowerCase(), (s) => s.toUpperCase()];

const SOURCE_CHARS = ' ,./-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const TARGET_CHARS = '0123456789-';
const [START, END] = [0, 1];
const sourceIds = (text) => Array.from(text, (c) => 1 + SOURCE_CHARS.indexOf(c));
const targetIds = (text) => Array.from(text, (c) => 2 + TARGET_CHARS.indexOf(c));
const targetText = (ids) => Array.from(ids, (i) => TARGET_CHARS[i - 2] ?? '?').join('');

/** `n` distinct random dates from 1950 to 2049, none of them in `exclude`, each in a random format and case. */
function dates(n, random, exclude = new Set()) {
  const seen = new Set();
  const texts = [];
  const isos = [];
  while (texts.length < n) {
    const day0 = Math.floor(random() * 36524);
    const date = new Date(Date.UTC(1950, 0, 1) + day0 * 86400000);
    const iso = date.toISOString().slice(0, 10);
    const d = { year: date.getUTCFullYear(), m: date.getUTCMonth() + 1, day: date.getUTCDate(), month: MONTHS[date.getUTCMonth()], weekday: DAYS[date.getUTCDay()] };
    const text = CASES[Math.floor(random() * 3)](FORMATS[Math.floor(random() * FORMATS.length)](d));
    if (seen.has(text) || exclude.has(iso)) continue;
    seen.add(text);
    texts.push(text);
    isos.push(iso);
  }
  return { texts, isos };
}

const random = lehmer(2024);
const train = dates(TRAIN, random);
// Test dates are days the training set never had, in any format.
const test = dates(TEST, random, new Set(train.isos));
const data = (set) => [set.texts.map(sourceIds), set.isos.map(targetIds)];
const [trainX, trainY] = data(train);
const [testX, testY] = data(test);

const base = {
  source: { vocab: SOURCE_CHARS.length + 1, dim: 24 },
  target: { vocab: TARGET_CHARS.length + 2, dim: 16 },
  encoder: { type: 'gru', units: 48, bidirectional: true },
  decoder: { type: 'gru', units: 96 },
  start_token: START,
  end_token: END,
};
console.log(`dates in ${FORMATS.length} formats × 3 cases → ISO 8601 (${TRAIN} training dates, ${TEST} held-out days)`);
mkdirSync('examples/output', { recursive: true });
const results = {};
for (const [name, attention] of [['with attention (Luong, general)', { type: 'luong', score: 'general' }], ['without attention', undefined]]) {
  const model = await encoderDecoder(attention ? { ...base, attention } : base, { seed: 1 });
  await model.compile({ optimizer: { type: 'adam', learning_rate: 0.005, global_clipnorm: 1 }, seed: 3 });
  const started = performance.now();
  await model.fit(trainX, trainY, {
    epochs: EPOCHS,
    batchSize: 64,
    onEpochEnd: (log) => process.stdout.isTTY && process.stdout.write(`\r  ${name}: epoch ${log.epoch + 1}/${EPOCHS}, loss ${log.loss.toFixed(4)}   `),
  });
  const seconds = (performance.now() - started) / 1000;
  const e = await model.evaluate(testX, testY, { maxLength: 12 });
  results[name] = e.exactMatch;
  const { total } = await model.summary();
  if (process.stdout.isTTY) process.stdout.write('\r');
  console.log(`  ${name.padEnd(32)} held-out exact match ${(100 * e.exactMatch).toFixed(1)}%, BLEU ${e.bleu.toFixed(3)}, token accuracy ${(100 * e.accuracy).toFixed(1)}%  (${total} parameters, ${seconds.toFixed(0)} s)`);
  if (attention) {
    const samples = [0, 1, 2, 3, 4].map((i) => test.texts[i]);
    const decoded = await model.decode(samples.map(sourceIds));
    const beam = await model.decode(samples.map(sourceIds), { beamWidth: 4 });
    samples.forEach((s, i) => console.log(`    ${s.padEnd(32)} → ${targetText(decoded[i].tokens)}  (beam of 4: ${targetText(beam[i].tokens)})`));
    const shown = test.texts.findIndex((t) => t.startsWith('the ') || t.includes(', '));
    const [one] = await model.decode([sourceIds(test.texts[shown])]);
    const [rows, cols] = one.attention.shape;
    const matrix = Array.from({ length: rows }, (_, r) => Array.from(one.attention.data.subarray(r * cols, (r + 1) * cols)));
    const labels = [...targetText(one.tokens), '⏎'];
    writeFileSync('examples/output/dates-attention.svg', heatmap({ title: `attention: "${test.texts[shown]}" → ${targetText(one.tokens)}`, matrix, rowLabels: labels, columnLabels: [...test.texts[shown]] }));
    console.log('    wrote examples/output/dates-attention.svg');
  }
  await model.dispose();
}
const [withA, withoutA] = [results['with attention (Luong, general)'], results['without attention']];
const goal = QUICK ? 0.5 : 0.98;
if (!(withA >= goal && withA > withoutA)) {
  console.error(`expected attention to reach ${100 * goal}% exact match and beat the model without it`);
  process.exit(1);
}
