import { defineConfig } from 'vitest/config';

/**
 * The files that start a Kubernetes control plane. They spend most of their time waiting on the
 * control plane's own periods (HPA syncs, scrape intervals, rate windows, grace periods), so they
 * run beside the other files instead of after them: the suite takes as long as the longer of the
 * two groups, not their sum.
 */
const CONTROL_PLANE = ['test/cluster/**/*.test.ts', 'test/operator/cluster.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/build.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        // Within each group, files run one at a time: two cores are shared, and every test here
        // derives its bounds from configured periods, not from how fast this machine is today.
        test: { name: 'control-plane', include: CONTROL_PLANE, fileParallelism: false },
      },
      {
        extends: true,
        test: { name: 'local', include: ['test/**/*.test.ts'], exclude: CONTROL_PLANE, fileParallelism: false },
      },
    ],
  },
});
