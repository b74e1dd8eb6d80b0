import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from './helpers/child.ts';

const hasWrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version exits 1 after printing its version.
    return (error as { status?: number }).status === 1;
  }
})();

// The bench itself is too slow and too noisy for CI; the smoke run proves it still runs end to end
// and prints every figure. Nothing is asserted about the numbers.
it.skipIf(!hasWrk)('npm run bench still runs: node bench/run.ts --smoke prints every row', { timeout: 180_000 }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['bench/run.ts', '--smoke'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  for (const row of ['max req/s, podscale (production config)', 'p50 / p99 at', '/metrics render', 'start-up to first /readyz 200', 'first 100 requests after /readyz 200', 'RSS idle', 'RSS peak', 'service image, final stage']) {
    expect(stdout).toContain(`| ${row}`);
  }
  expect(stdout).toMatch(/no node_modules \|/);
});
