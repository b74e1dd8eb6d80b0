import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Signal and Prometheus tests run the built service (`node dist/server.js`), and the bundle tests
 * the service bundle (dist/service/), so build both once: what `npm run build` does.
 */
export default function setup(): void {
  // scripts/test.ts (npm test) builds once before it starts its vitest processes.
  if (process.env.PODSCALE_TEST_BUILT === '1') return;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, [`${root}/scripts/build-service.ts`], { cwd: root, stdio: 'inherit' });
}
