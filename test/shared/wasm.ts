// What the suites that call the wasm boundary directly share: loading the simd build, and
// catching an error's name and message.
import { readFile } from 'node:fs/promises';
import init from '../../pkg/simd/seqwasm.js';

export async function loadSimd(): Promise<void> {
  await init({ module_or_path: await WebAssembly.compile(await readFile(new URL('../../pkg/simd/seqwasm_bg.wasm', import.meta.url))) });
}

export function thrown(call: () => unknown): { name: string; message: string } {
  try {
    call();
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error('expected an error');
}
