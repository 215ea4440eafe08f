import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Workers, Chromium and wasm instantiation are slow to start on 2 cores; nothing here is timed.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
