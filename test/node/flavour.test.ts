// Which build runs where: the choice is a pure function of what the platform can do.
import { describe, expect, it } from 'vitest';
import { chooseFlavour, relaxedOption, relaxedSimdSupported, type Capabilities } from '../../ts/flavour.js';
import { ConfigError } from '../../ts/errors.js';

const able: Capabilities = { simd: true, relaxedSimd: true, sharedMemory: true, canBlock: true, cores: 4 };

describe('chooseFlavour', () => {
  it('uses threads, one per core, where shared memory works and the thread may block', () => {
    expect(chooseFlavour('auto', able)).toEqual({ flavour: 'threads', threads: 4, reason: 'shared memory available, 4 threads' });
    expect(chooseFlavour(2, able).threads).toBe(2);
  });

  it('falls back to simd and reports why', () => {
    const isolated = 'the page is not cross-origin isolated';
    expect(chooseFlavour('auto', { ...able, sharedMemory: isolated })).toEqual({ flavour: 'simd', threads: 1, reason: isolated });
    const mainThread = 'a browser main thread cannot block on atomics';
    expect(chooseFlavour(4, { ...able, canBlock: mainThread })).toEqual({ flavour: 'simd', threads: 1, reason: mainThread });
    expect(chooseFlavour('auto', { ...able, cores: 1 })).toMatchObject({ flavour: 'simd', reason: 'one core available' });
    expect(chooseFlavour(1, able)).toMatchObject({ flavour: 'simd', reason: 'one thread requested' });
  });

  it('uses the relaxed-SIMD twin of the chosen build only when asked for', () => {
    expect(chooseFlavour('auto', able).flavour).toBe('threads');
    expect(chooseFlavour('auto', able, true)).toMatchObject({ flavour: 'relaxedThreads', threads: 4 });
    expect(chooseFlavour(1, able, true)).toMatchObject({ flavour: 'relaxed', threads: 1, reason: 'one thread requested; relaxed SIMD (fused multiply-add)' });
  });

  it('falls back to the plain SIMD build when relaxed SIMD is missing, and says why', () => {
    const why = 'this browser does not support WebAssembly relaxed SIMD';
    expect(chooseFlavour(2, { ...able, relaxedSimd: why }, true)).toEqual({ flavour: 'threads', threads: 2, reason: `shared memory available, 2 threads; relaxed SIMD was asked for, but ${why}` });
  });

  it('takes relaxedSimd as a boolean only', () => {
    expect(relaxedOption(undefined)).toBe(false);
    expect(relaxedOption(true)).toBe(true);
    expect(() => relaxedOption('yes')).toThrow(/relaxedSimd must be true or false, got yes/);
  });

  it('probes relaxed SIMD by validating a module (Node 20 enables it only behind a flag)', () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(relaxedSimdSupported()).toBe(major >= 22 || process.execArgv.includes('--experimental-wasm-relaxed-simd'));
  });

  it('refuses a runtime without wasm SIMD', () => {
    expect(() => chooseFlavour('auto', { ...able, simd: false })).toThrow(ConfigError);
  });
});
