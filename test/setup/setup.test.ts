// Set-up fails loudly, naming the missing piece, rather than half-installing.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/setup.sh', import.meta.url));

function setup(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [script], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stderr });
    });
  });
}

describe('scripts/setup.sh', () => {
  it('names rustc-web when the wasm-capable rustc is missing', async () => {
    const { code, stderr } = await setup({ WASM_RUSTC: '/nonexistent/rustc' });
    expect(code).toBe(1);
    expect(stderr).toContain("setup: FAILED at 'rustc-web': /nonexistent/rustc is missing");
  });

  it('names rust-web-src when the std sources are missing', async () => {
    const { code, stderr } = await setup({ RUST_LIBRARY_SRC: '/nonexistent/library' });
    expect(code).toBe(1);
    expect(stderr).toContain("setup: FAILED at 'rust-web-src'");
    expect(stderr).toContain('/nonexistent/library');
  });
});
