// W1–W4: the model workloads of the benchmark issue, the same shapes for every system. The
// systems alternate inside each repetition so that their ratios hold on a noisy machine.
import { availableParallelism } from 'node:os';
import { brainjs } from './brain.js';
import { isolated } from './isolated.js';
import { onnxRuntime } from './onnx.js';
import { relaxedAvailable } from './relaxed.js';
import { settle } from './settle.js';
import { w0Probe } from './w0-probe.js';
import { seqwasm, tfjs } from './systems.js';

const FULL = {
  w1: { kind: 'stream', cell: 'lstm', input: 32, hidden: 256, unitsPerRep: 100 },
  w2: { kind: 'sequence', batch: 32, steps: 100, input: 64, hidden: 256 },
  w3: { kind: 'train', batch: 32, steps: 50, input: 64, hidden: 256 },
  w4: { kind: 'charlm', vocab: 65, embedding: 64, hidden: 256, batch: 32, steps: 64 },
};
const SMOKE = {
  w1: { kind: 'stream', cell: 'lstm', input: 4, hidden: 8, unitsPerRep: 5 },
  w2: { kind: 'sequence', batch: 2, steps: 5, input: 4, hidden: 8 },
  w3: { kind: 'train', batch: 2, steps: 5, input: 4, hidden: 8 },
  w4: { kind: 'charlm', vocab: 7, embedding: 4, hidden: 8, batch: 2, steps: 5 },
};
// Warm-up: at least `warmup` repetitions and `warmupMs` of them. V8 first runs wasm and JS in
// its baseline tiers and optimises what runs hot in the background: two repetitions of W1 (a few
// milliseconds) measured the baseline code, twice as slow as the steady state.
const PLANS = {
  smoke: { shapes: SMOKE, repeats: 1, warmup: 1, warmupMs: 0 },
  quick: { shapes: FULL, repeats: 3, warmup: 1, warmupMs: 500 },
  full: { shapes: FULL, repeats: 7, warmup: 2, warmupMs: 1500 },
};

/** Forward flops of one sample-step of a cell: 2·G·H·(I + H). */
function cellFlops(cell, input, hidden) {
  return 2 * (cell === 'gru' ? 3 : 4) * hidden * (input + hidden);
}

/** The workloads with their units (what one `step` does), rates and flop counts. */
function workloads(shapes) {
  const { w1, w2, w3, w4 } = shapes;
  return [
    { id: 'W1', label: 'LSTM streaming, batch 1, one step per call', shape: w1, unit: 'µs/step', perStep: 1, flops: cellFlops('lstm', w1.input, w1.hidden), rate: (ms) => (ms * 1000) / w1.unitsPerRep, lowerIsBetter: true },
    ...['lstm', 'gru'].map((cell) => ({ id: 'W2', label: `${cell.toUpperCase()} sequences, batch ${w2.batch} × ${w2.steps} steps`, shape: { ...w2, cell }, unit: 'seq/s', flops: w2.batch * w2.steps * cellFlops(cell, w2.input, w2.hidden), rate: (ms) => w2.batch / (ms / 1000) })),
    ...['lstm', 'gru'].map((cell) => ({ id: 'W3', label: `${cell.toUpperCase()} training, batch ${w3.batch} × ${w3.steps} steps`, shape: { ...w3, cell }, unit: 'steps/s', flops: 3 * w3.batch * w3.steps * cellFlops(cell, w3.input, w3.hidden), rate: (ms) => 1000 / ms })),
    { id: 'W4', label: `char LM training, batch ${w4.batch} × ${w4.steps} tokens`, shape: { ...w4, cell: 'lstm' }, unit: 'tokens/s', flops: 3 * w4.batch * w4.steps * (cellFlops('lstm', w4.embedding, w4.hidden) + 2 * w4.hidden * w4.vocab), rate: (ms) => (w4.batch * w4.steps) / (ms / 1000) },
  ];
}

export async function models(mode) {
  const plan = PLANS[mode];
  const cores = availableParallelism();
  const onnx = new URL('./onnx.js', import.meta.url);
  const inference = ['stream', 'sequence'];
  const ortWeb = (threads) => isolated({ name: `ORT Web ${threads} thread${threads > 1 ? 's' : ''}`, module: onnx, factory: 'onnxRuntime', args: [{ native: false, threads }], kinds: inference, why: 'ONNX Runtime runs inference only; it cannot train' });
  const peers = [
    tfjs('wasm'),
    // TF.js's cpu backend is plain JavaScript: 10–30 s per W2 repetition, tens of seconds per training step.
    isolated({
      name: 'TF.js cpu', module: new URL('./systems.js', import.meta.url), factory: 'tfjs', args: ['cpu'],
      kinds: mode === 'full' ? inference : ['stream'],
      why: mode === 'full' ? 'left out of training: the plain-JS backend takes tens of seconds per step on these shapes' : 'left out of the quick run beyond W1 (10–30 s per W2 repetition; the full run measures W2)',
    }),
    ortWeb(1),
    ortWeb(cores),
    onnxRuntime({ native: true, threads: 1 }),
    onnxRuntime({ native: true, threads: cores }),
    brainjs(),
  ];
  const relaxed = (await relaxedAvailable()) === true ? [seqwasm({ worker: false, threads: 1, relaxedSimd: true }), seqwasm({ worker: false, threads: cores, relaxedSimd: true })] : [];
  const ours = [seqwasm({ worker: false, threads: 1 }), seqwasm({ worker: false, threads: cores }), seqwasm({ worker: true, threads: 1 }), seqwasm({ worker: true, threads: cores }), ...relaxed];
  const systems = [...ours, ...peers];
  const buildOf = new Map(ours.map((s) => [s.name, s.relaxed ? 'relaxed' : 'simd']));
  const probe = await w0Probe(mode, relaxed.length ? ['simd', 'relaxed'] : ['simd']);
  const probes = [];
  const notes = [];
  for (const peer of peers) notes.push(`${peer.name}: ${await peer.describe()}.`);
  const rows = [];
  const ratios = [];
  // What each system left out and why, gathered into one note per reason.
  const left = new Map();
  for (const w of workloads(plan.shapes)) {
    const units = w.shape.unitsPerRep ?? 1;
    const rep = async (handle) => {
      // A peer in a worker of its own times its repetitions there.
      if (handle.rep) return handle.rep(units);
      const start = performance.now();
      for (let u = 0; u < units; u++) await handle.step();
      return performance.now() - start;
    };
    // A system that cannot run the workload is left out of it, with the reason in the notes.
    const built = [];
    for (const system of systems) {
      let handle;
      try {
        handle = await system.build(w.shape);
        const start = performance.now();
        let last = 0;
        for (let i = 0; i < plan.warmup || performance.now() - start < plan.warmupMs; i++) last = await rep(handle);
        built.push([system, handle, last]);
      } catch (error) {
        const reason = `${system.name} cannot run ${'{workloads}'}: ${String(error.message).split('\n')[0]}`;
        left.set(reason, [...(left.get(reason) ?? []), w.id]);
        await handle?.dispose().catch(() => {});
      }
    }
    // Each round runs the systems fastest first (by their last warm-up repetition), so that the
    // fast ones run a moment apart. In the order of the list, TF.js's cpu backend (5–16 s a W2
    // repetition) ran between seqwasm and ONNX Runtime Web, and brain.js (5–8 s) after it: seconds
    // apart, as long as a slow spell of this machine, so a ratio paired repetitions from
    // different spells.
    const order = [...built].sort((a, b) => a[2] - b[2]);
    const times = new Map(built.map(([s]) => [s.name, []]));
    const w0 = [];
    for (let r = 0; r < plan.repeats; r++) {
      await settle();
      w0.push(await probe.measure());
      for (const [system, handle] of order) {
        await settle();
        times.get(system.name).push(await rep(handle));
      }
    }
    for (const [, handle] of built) await handle.dispose();
    // Each repetition's times in the order they ran, before sorting: the paired ratios read them.
    const inOrder = new Map([...times].map(([name, ms]) => [name, [...ms]]));
    const summary = new Map();
    for (const [name, ms] of times) {
      ms.sort((a, b) => a - b);
      const median = ms[ms.length >> 1];
      const value = w.rate(median);
      const [fastest, slowest] = [w.rate(ms[0]), w.rate(ms.at(-1))];
      const gflops = (w.flops * units) / (median / 1000) / 1e9;
      summary.set(name, value);
      // The median over the rounds of this round's GFLOP/s over the W0 product's in it.
      const build = buildOf.get(name);
      const fractions = build ? inOrder.get(name).map((t, r) => (w.flops * units) / t / 1e6 / w0[r][build]).sort((a, b) => a - b) : [];
      rows.push({
        workload: w.id,
        task: w.label,
        system: name,
        rate: round(value),
        unit: w.unit,
        'min–max': `${round(Math.min(fastest, slowest))}–${round(Math.max(fastest, slowest))}`,
        'GFLOP/s': round(gflops),
        'of W0': build ? `${Math.round(100 * fractions[fractions.length >> 1])}%` : '',
      });
    }
    for (const build of Object.keys(w0[0] ?? {})) {
      const gflops = w0.map((g) => g[build]).sort((a, b) => a - b);
      probes.push({ workload: w.id, task: w.label, build, size: probe.size, 'GFLOP/s': round(gflops[gflops.length >> 1]), 'min–max': `${round(gflops[0])}–${round(gflops.at(-1))}` });
    }
    // A ratio is the median over the repetitions of the ratio within each, where the two ran a
    // moment apart: on a shared machine a slow spell then slows both, where it would move one
    // system's median and not the other's. In speed, every workload's ratio is peer ms ÷ our ms.
    for (const [name, ours] of inOrder) {
      if (!name.startsWith('seqwasm')) continue;
      for (const [peerName, peer] of inOrder) {
        if (peerName.startsWith('seqwasm')) continue;
        const paired = ours.map((ms, r) => peer[r] / ms).sort((a, b) => a - b);
        ratios.push({ workload: w.id, task: w.label, system: name, peer: peerName, ratio: round(paired[paired.length >> 1]), 'of medians': round(w.lowerIsBetter ? summary.get(peerName) / summary.get(name) : summary.get(name) / summary.get(peerName)) });
      }
    }
  }
  for (const peer of peers) await peer.close?.();
  await probe.dispose();
  for (const [reason, ids] of left) notes.push(reason.replace('{workloads}', [...new Set(ids)].join(', ')));
  notes.push('Ratios are seqwasm ÷ each peer in speed (above 1: seqwasm is faster): the median over the repetitions of the ratio inside each (the systems alternate), and beside it the ratio of the two medians.');
  notes.push('Each round runs the systems in the order of their speed in the warm-up, fastest first, so that the fast systems\' repetitions in a round lie close together.');
  notes.push('Before each repetition the bench waits for the process to go quiet (bench/settle.js): ONNX Runtime\'s threads spin for tens of ms after a call, and seqwasm\'s for 2 ms, which would take a core from the next system.');
  notes.push('Training steps include the copy of the batch to the worker (worker rows) and every check seqwasm does on its input.');
  notes.push(`"of W0" divides the achieved GFLOP/s (training counted as 3× the forward flops) by the GFLOP/s of a one-thread ${probe.size} W0 product of the same build (simd or relaxed) timed at the start of the same round: the median over the rounds. Above 100% means the workload's GEMM shapes ran faster than that square product, and two threads may reach 200%.`);
  notes.push('ONNX Runtime runs single LSTM and GRU nodes built here (bench/onnx.js); ORT Web runs its wasm backend in a Node worker per thread count, which times its own repetitions.');
  if (!relaxed.length) notes.push(`The relaxed-simd builds were not run: ${await relaxedAvailable()}.`);
  return { rows, ratios, probes, notes };
}

function round(v) {
  return v >= 100 ? Math.round(v) : v >= 10 ? Math.round(v * 10) / 10 : Math.round(v * 100) / 100;
}
