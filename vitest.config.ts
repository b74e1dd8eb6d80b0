import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/build.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Child-process and Prometheus tests measure timing; two cores are shared, so run files serially.
    fileParallelism: false,
  },
});
