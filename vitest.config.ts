import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    // A fresh embedded database migrates in seconds on a quiet machine; far longer when the machine is loaded.
    hookTimeout: 120_000,
    // Two cores: files in parallel, two at a time, each with its own database.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
