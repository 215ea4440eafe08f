// Whether this runtime can run seqwasm's relaxed-SIMD builds: true, or why not. `npm run bench`
// starts Node with --experimental-wasm-relaxed-simd, which Node 20 needs for them.
import { createRuntime } from '../dist/node/index.js';

let probed;

export async function relaxedAvailable() {
  probed ??= (async () => {
    const runtime = await createRuntime({ worker: false, threads: 1, relaxedSimd: true });
    const { flavour, reason } = runtime.info;
    await runtime.dispose();
    return flavour === 'relaxed' ? true : reason;
  })();
  return probed;
}
