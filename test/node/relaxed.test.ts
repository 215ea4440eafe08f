// The opt-in relaxed-SIMD builds: chosen only when asked for and supported (Node 20 needs a V8
// flag, so those checks run in a child Node started with it), and otherwise a fallback that says why.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../dist/node/index.js';

const run = promisify(execFile);
const entry = new URL('../../dist/node/index.js', import.meta.url).href;
const cases = new URL('../shared/matmul-cases.js', import.meta.url).href;

async function withRelaxedSimd(script: string): Promise<unknown> {
  const { stdout } = await run(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script], { timeout: 120_000 });
  return JSON.parse(stdout);
}

describe('relaxed SIMD', () => {
  it('falls back to the default build where the runtime lacks it, and says why', async () => {
    const runtime = await createRuntime({ worker: false, threads: 1, relaxedSimd: true });
    expect(runtime.info.flavour).toBe('simd');
    expect(runtime.info.reason).toMatch(/relaxed SIMD was asked for, but this Node does not enable it \(Node 20 needs --experimental-wasm-relaxed-simd\)/);
    await runtime.dispose();
  });

  it('refuses a relaxedSimd option that is not a boolean', async () => {
    await expect(createRuntime({ worker: false, relaxedSimd: 'yes' as unknown as boolean })).rejects.toThrow(/relaxedSimd must be true or false, got yes/);
  });

  it('runs matmul in both relaxed builds within f32 rounding, the same bits for 1 and 2 threads, and other bits than the default build', async () => {
    const result = (await withRelaxedSimd(`
      import { createRuntime } from ${JSON.stringify(entry)};
      import { checkPlacement, compareRelaxed } from ${JSON.stringify(cases)};
      const threaded = await checkPlacement(createRuntime, { threads: 2, relaxedSimd: true });
      const compared = await compareRelaxed(createRuntime, { worker: false, threads: 1 });
      console.log(JSON.stringify({ threaded, compared }));`)) as {
      threaded: { info: object; referenceInfo: object; failures: string[]; identical: boolean; checked: number };
      compared: { info: object; failures: string[]; differing: number };
    };
    expect(result.threaded.info).toMatchObject({ flavour: 'relaxedThreads', threads: 2, placement: 'worker' });
    expect(result.threaded.referenceInfo).toMatchObject({ flavour: 'relaxed', threads: 1 });
    expect(result.threaded.checked).toBeGreaterThan(125);
    expect(result.threaded.failures).toEqual([]);
    expect(result.threaded.identical).toBe(true);
    expect(result.compared.info).toMatchObject({ flavour: 'relaxed', placement: 'inline' });
    expect(result.compared.failures).toEqual([]);
    expect(result.compared.differing).toBeGreaterThan(0);
  });

  it('predicts with an LSTM as the default build does, to f32 rounding', async () => {
    const result = (await withRelaxedSimd(`
      import { sequential } from ${JSON.stringify(entry)};
      const x = { data: Float32Array.from({ length: 4 * 30 * 16 }, (_, i) => Math.sin(i * 0.37)), shape: [4, 30, 16] };
      const layers = [{ type: 'lstm', units: 64, return_sequences: true }, { type: 'gru', units: 32 }, { type: 'dense', units: 3 }];
      const outputs = [];
      for (const relaxedSimd of [false, true]) {
        const model = await sequential(layers, { input: 16, seed: 5, worker: false, threads: 1, relaxedSimd });
        outputs.push(Array.from((await model.predict(x)).data));
        await model.dispose();
      }
      const gap = Math.max(...outputs[0].map((v, i) => Math.abs(v - outputs[1][i])));
      console.log(JSON.stringify({ gap, values: outputs[0].length }));`)) as { gap: number; values: number };
    expect(result.values).toBe(12);
    expect(result.gap).toBeLessThan(1e-4);
  });
});
