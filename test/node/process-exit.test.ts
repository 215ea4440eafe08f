// A worker runtime must neither keep Node alive when idle nor let it exit while a call is pending.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const entry = new URL('../../dist/node/index.js', import.meta.url).href;

it('lets the process exit after calls finish, without dispose, and only after they finish', async () => {
  const script = `
    import { createRuntime } from ${JSON.stringify(entry)};
    const runtime = await createRuntime({ threads: 2 });
    await runtime.matmul([1], new Float32Array(1), 1, 1, 1).catch((e) => console.log(e.name));
    const c = await runtime.matmul(new Float32Array([2]), new Float32Array([3]), 1, 1, 1);
    console.log(c[0]);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
  expect(stdout.trim().split('\n')).toEqual(['DTypeError', '6']);
});
