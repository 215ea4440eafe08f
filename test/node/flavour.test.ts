// Which build runs where: the choice is a pure function of what the platform can do.
import { describe, expect, it } from 'vitest';
import { chooseFlavour, type Capabilities } from '../../ts/flavour.js';
import { ConfigError } from '../../ts/errors.js';

const able: Capabilities = { simd: true, sharedMemory: true, canBlock: true, cores: 4 };

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

  it('refuses a runtime without wasm SIMD', () => {
    expect(() => chooseFlavour('auto', { ...able, simd: false })).toThrow(ConfigError);
  });
});
