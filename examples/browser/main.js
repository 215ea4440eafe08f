// The browser demo: a character-level LSTM of city names trained in a Web Worker, with a live
// loss plot (uPlot) and names sampled after every epoch. Served cross-origin isolated (COOP and
// COEP), it uses the threads build; elsewhere it falls back to the single-threaded build and
// says so. `window.demo` holds its state for the Chromium test.
import { createRuntime } from '../../dist/browser/index.js';
import uPlot from '../../node_modules/uplot/dist/uPlot.esm.js';
import { characterTask, cityNames } from '../names.js';

const params = new URLSearchParams(location.search);
const EPOCHS = Number(params.get('epochs') ?? 30);
const NAMES = Number(params.get('names') ?? 6000);
const demo = { epochs: 0, losses: [], samples: [], flavour: '', threads: 0, isolated: crossOriginIsolated, error: '' };
window.demo = demo;
const $ = (id) => document.getElementById(id);

// A main-thread heartbeat: if training blocked this thread, the count would stall.
let frames = 0;
const tick = () => {
  frames++;
  if (frames % 30 === 0) $('frames').textContent = `main thread: ${frames} frames drawn since the page opened`;
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);

const plot = new uPlot(
  {
    title: 'training loss (nats per character)',
    width: Math.min(860, innerWidth - 40),
    height: 300,
    scales: { x: { time: false } },
    axes: [{ label: 'names seen' }, {}],
    series: [{ label: 'names seen' }, { label: 'mean loss of the epoch so far', stroke: '#1f6feb', width: 2 }],
  },
  [[], []],
  $('plot'),
);

async function main() {
  const csv = await (await fetch('../../node_modules/vega-datasets/data/zipcodes.csv')).text();
  const names = cityNames(csv).slice(0, NAMES);
  const task = characterTask(names);
  const data = task.encode(names);

  const runtime = await createRuntime();
  demo.flavour = runtime.info.flavour;
  demo.threads = runtime.info.threads;
  const status = $('status');
  if (runtime.info.flavour === 'threads') {
    status.textContent = `seqwasm in a Web Worker, threads build with ${runtime.info.threads} threads (this page is cross-origin isolated).`;
  } else {
    status.className = 'fallback';
    status.textContent = `seqwasm in a Web Worker, single-threaded simd build: ${runtime.info.reason}. Serve the page with COOP "same-origin" and COEP "require-corp" for the threads build.`;
  }

  const model = await runtime.sequential(
    [{ type: 'embedding', vocab: task.alphabet.length, dim: 16 }, { type: 'lstm', units: 96, return_sequences: true }, { type: 'dense', units: task.alphabet.length }],
    { seed: 2 },
  );
  await model.compile({ loss: { type: 'sparse_categorical_crossentropy', from_logits: true }, optimizer: { type: 'adam', learning_rate: 0.005, global_clipnorm: 1 }, seed: 3 });
  const xs = [];
  const ys = [];
  await model.fit(data.x, data.y, {
    epochs: EPOCHS,
    batchSize: 64,
    lengths: data.lengths,
    onProgress: (e) => {
      xs.push(e.epoch * names.length + Math.min(e.batch * 64, names.length));
      ys.push(e.loss);
      demo.losses.push(e.loss);
      plot.setData([xs, ys]);
    },
    onEpochEnd: async (log) => {
      const samples = [];
      for (let s = 0; s < 8; s++) samples.push(task.text(await model.generate([task.id.get('^')], { length: task.steps, temperature: 0.8, seed: log.epoch * 8 + s })));
      demo.samples = samples;
      demo.epochs = log.epoch + 1;
      $('epoch').textContent = String(log.epoch + 1);
      $('samples').textContent = samples.join(', ');
    },
  });
}

main().catch((error) => {
  demo.error = `${error.name}: ${error.message}`;
  $('error').textContent = demo.error;
});
