import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The tests run the service as it ships, the bundle in dist/service/ (and the controller's in
 * dist/controller/): build both once, as `npm run build` does. The tools run from their
 * TypeScript source (Node 24 strips the types), so they need no build.
 */
export default function setup(): void {
  // scripts/test.ts (npm test) builds once before it starts its vitest processes.
  if (process.env.PODSCALE_TEST_BUILT === '1') return;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  for (const script of ['build-service.ts', 'build-controller.ts']) execFileSync(process.execPath, [`${root}/scripts/${script}`], { cwd: root, stdio: 'inherit' });
}
