// ONNX Runtime as a peer for the inference workloads (W1, W2): ONNX Runtime Web (its wasm
// backend, in Node) and onnxruntime-node (native, the reference). The models are single ONNX
// LSTM or GRU nodes written here with onnx-proto, the same shapes as seqwasm's (GRU with
// `linear_before_reset`, PyTorch's variant). ONNX Runtime cannot train: W3 and W4 say so.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const require = createRequire(import.meta.url);
const FLOAT = onnx.TensorProto.DataType.FLOAT;

function values(n, seed) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 12.9898 + seed) / 8;
  return out;
}

function initializer(name, dims, seed) {
  const data = values(dims.reduce((a, b) => a * b, 1), seed);
  return onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer) });
}

function valueInfo(name, dims) {
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
}

/** One recurrent node over X `[steps, batch, input]` from given initial states, as ONNX bytes. */
function recurrentModel(w, steps) {
  const { cell, input, hidden } = w;
  const batch = w.batch ?? 1;
  const lstm = cell !== 'gru';
  const gates = lstm ? 4 : 3;
  const states = lstm ? ['initial_h', 'initial_c'] : ['initial_h'];
  const node = onnx.NodeProto.create({
    opType: lstm ? 'LSTM' : 'GRU',
    input: ['X', 'W', 'R', 'B', '', ...states],
    output: ['Y', 'Y_h', ...(lstm ? ['Y_c'] : [])],
    attribute: [
      onnx.AttributeProto.create({ name: 'hidden_size', type: onnx.AttributeProto.AttributeType.INT, i: hidden }),
      ...(lstm ? [] : [onnx.AttributeProto.create({ name: 'linear_before_reset', type: onnx.AttributeProto.AttributeType.INT, i: 1 })]),
    ],
  });
  const graph = onnx.GraphProto.create({
    name: `${cell}-${steps}x${batch}`,
    node: [node],
    initializer: [initializer('W', [1, gates * hidden, input], 1), initializer('R', [1, gates * hidden, hidden], 2), initializer('B', [1, 2 * gates * hidden], 3)],
    input: [valueInfo('X', [steps, batch, input]), ...states.map((s) => valueInfo(s, [1, batch, hidden]))],
    output: [valueInfo('Y_h', [1, batch, hidden]), ...(lstm ? [valueInfo('Y_c', [1, batch, hidden])] : [])],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 14 }], producerName: 'seqwasm bench', graph })).finish();
}

let webLoaded;
async function loadWeb() {
  webLoaded ??= (async () => {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.wasmPaths = `${dirname(require.resolve('onnxruntime-web'))}/`;
    return ort;
  })();
  return webLoaded;
}

/**
 * ONNX Runtime Web (wasm backend) with `threads` threads, or onnxruntime-node when `native`. ORT
 * Web reads its thread count once per JS realm: give each thread count a realm of its own
 * (bench/isolated.js).
 */
export function onnxRuntime({ native, threads }) {
  const name = native ? `onnxruntime-node ${threads} thread${threads > 1 ? 's' : ''}` : `ORT Web ${threads} thread${threads > 1 ? 's' : ''}`;
  return {
    name,
    async describe() {
      if (native) return `onnxruntime-node ${require('onnxruntime-node/package.json').version} (native CPU provider)`;
      const ort = await loadWeb();
      return `ORT Web ${ort.env.versions.web}, wasm backend, SIMD ${ort.env.wasm.simd === false ? 'off' : 'on'}`;
    },
    async build(w) {
      if (w.kind !== 'stream' && w.kind !== 'sequence') throw new Error('ONNX Runtime runs inference only; it cannot train');
      const ort = native ? await import('onnxruntime-node') : await loadWeb();
      if (!native) ort.env.wasm.numThreads = threads;
      const steps = w.kind === 'stream' ? 1 : w.steps;
      const batch = w.kind === 'stream' ? 1 : w.batch;
      const session = await ort.InferenceSession.create(recurrentModel({ ...w, batch }, steps), {
        executionProviders: [native ? 'cpu' : 'wasm'],
        ...(native ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
      });
      const lstm = w.cell !== 'gru';
      const zeros = () => new ort.Tensor('float32', new Float32Array(batch * w.hidden), [1, batch, w.hidden]);
      const x = new ort.Tensor('float32', values(steps * batch * w.input, 4), [steps, batch, w.input]);
      let feeds = { X: x, initial_h: zeros(), ...(lstm ? { initial_c: zeros() } : {}) };
      const step = async () => {
        const out = await session.run(feeds);
        // Streaming carries the state into the next call; a sequence starts from zeros each time.
        if (w.kind === 'stream') feeds = { X: x, initial_h: out.Y_h, ...(lstm ? { initial_c: out.Y_c } : {}) };
        else await out.Y_h.getData();
      };
      return { step, dispose: () => session.release() };
    },
  };
}
