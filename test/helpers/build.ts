import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Signal and Prometheus tests run the built service (`node dist/server.js`), so build it once. */
export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
