// The package as users get it: `npm pack`, installed into a scratch project, imported from Node
// ESM (model in a worker) and bundled by esbuild for a browser page (inline, the wasm module
// handed over compiled, as a bundler user would).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from '../browser/chromium.js';
import { serve } from '../browser/server.js';

const repository = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'seqwasm-package-'));
const run = (command: string, args: string[], cwd = scratch) => execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const program = `
  const seqwasm = await import('seqwasm');
  const model = await seqwasm.sequential([{ type: 'gru', units: 4 }, { type: 'dense', units: 1 }], { input: 1, seed: 1, ...OPTIONS });
  await model.compile({ loss: 'mse', optimizer: { type: 'adam', learning_rate: 0.05 } });
  const x = { data: Float32Array.from({ length: 40 }, (_, i) => (i % 5) / 5), shape: [8, 5, 1] };
  const y = { data: new Float32Array(8).fill(0.4), shape: [8, 1] };
  const history = await model.fit(x, y, { epochs: 20, batchSize: 4 });
  let typed = false;
  try { await model.predict([[[NaN]]]); } catch (e) { typed = e instanceof seqwasm.NumericError; }
  const prediction = Array.from((await model.predict(x)).data);
  await model.dispose();
  const result = { first: history.epochs[0].loss, last: history.epochs.at(-1).loss, prediction, typed };
`;

beforeAll(() => {
  run('npm', ['pack', '--pack-destination', scratch, '--silent'], repository);
  const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'))!;
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--silent', `./${tarball}`]);
}, 300_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the packed package', () => {
  it('holds the built files only, types and wasm included', () => {
    const files = readdirSync(join(scratch, 'node_modules/seqwasm/dist'), { recursive: true }).map(String);
    expect(files).toEqual(expect.arrayContaining(['node/index.js', 'node/worker.js', 'browser/index.js', 'wasm/seqwasm-simd.wasm', 'wasm/seqwasm-threads.wasm', 'wasm/seqwasm-relaxed.wasm', 'wasm/seqwasm-relaxedThreads.wasm', 'types/browser/index.d.ts']));
    expect(files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toBe(false);
  });

  it('trains and predicts from Node ESM, with the model in a worker', () => {
    writeFileSync(join(scratch, 'node-app.mjs'), `${program.replace('OPTIONS', '{ worker: true }')}\nconsole.log(JSON.stringify(result));\n`);
    const result = JSON.parse(run('node', ['node-app.mjs']));
    expect(result.last).toBeLessThan(result.first);
    expect(result.prediction).toHaveLength(8);
    expect(result.typed).toBe(true);
  });

  it('bundles with esbuild for browsers and runs there inline', async () => {
    const app = `
      const wasm = { simd: await WebAssembly.compileStreaming(fetch('../node_modules/seqwasm/dist/wasm/seqwasm-simd.wasm')) };
      ${program.replace('OPTIONS', '{ worker: false, threads: 1, wasm }')}
      window.result = result;`;
    writeFileSync(join(scratch, 'browser-app.js'), app);
    run(join(repository, 'node_modules/.bin/esbuild'), ['browser-app.js', '--bundle', '--format=esm', '--platform=browser', '--target=es2022', '--splitting', '--outdir=out', '--log-level=error']);
    writeFileSync(join(scratch, 'out/index.html'), '<!doctype html><script type="module" src="./browser-app.js"></script>');
    const server = await serve(scratch + '/');
    const browser = await launch();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.origin}/plain/out/index.html`);
      const result = (await page.waitForFunction(() => (window as { result?: unknown }).result, undefined, { timeout: 60_000 })).jsonValue() as Promise<{ first: number; last: number; prediction: number[]; typed: boolean }>;
      const r = await result;
      expect(r.last).toBeLessThan(r.first);
      expect(r.prediction).toHaveLength(8);
      expect(r.typed).toBe(true);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
