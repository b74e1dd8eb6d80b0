import { defineConfig } from 'vitest/config';

/**
 * The files that start a cluster (a control plane with a node, pods and load). `npm test`
 * (scripts/test.ts) runs them beside the local files, and the saturating ones after both; plain
 * `vitest run` runs every file one at a time. Files that start only an apiserver (the operator's)
 * are local: they run no pods and little load, and the cluster group is the longer one.
 */
const CONTROL_PLANE = ['test/cluster/**/*.test.ts'];
/**
 * The files that drive a service to (or past) its capacity and judge what it does there. `npm
 * test` runs them with nothing beside them, after the rest: a neighbour taking a core mid-run turns "3× capacity
 * measured a moment ago" into 6×, and probes then time out for the neighbour's sake.
 */
const SATURATING = ['test/reliability/overload.test.ts', 'test/reliability/soak.test.ts', 'packages/service/test/reliability/metrics-attack.test.ts', 'test/bench-smoke.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/build.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Within each group, files run one at a time: two cores are shared, and every test derives
    // its bounds from configured periods or from capacity measured in the same run.
    projects: [
      { extends: true, test: { name: 'control-plane', include: CONTROL_PLANE, fileParallelism: false } },
      { extends: true, test: { name: 'local', include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'], exclude: [...CONTROL_PLANE, ...SATURATING], fileParallelism: false } },
      { extends: true, test: { name: 'saturating', include: SATURATING, fileParallelism: false } },
    ],
  },
});
