/**
 * `npm test`: the whole suite in the order that keeps it short and fair on two shared cores.
 *
 * 1. Build once (what test/helpers/build.ts would do in each vitest process).
 * 2. The control-plane files and the local files at the same time, each group one file at a time:
 *    the control-plane files spend most of their time waiting on Kubernetes' own periods (HPA
 *    syncs, scrapes, rate windows, grace periods), so the suite then takes about as long as the
 *    longer group rather than the sum. Vitest itself runs projects that have file parallelism off
 *    one file at a time in all, hence two processes.
 * 3. The saturating files (a service driven to or past its capacity) alone, after both.
 *
 * With arguments (`npm test -- packages/cli/test/lab`), it is plain `vitest run` with them.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import setup from '../test/helpers/build.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const vitest = `${root}/node_modules/vitest/vitest.mjs`;

/** Runs vitest with these args; with a label, each output line is prefixed by it. Resolves with the exit code. */
function run(args: string[], label?: string, built = false): Promise<number> {
  const child = spawn(process.execPath, [vitest, 'run', ...args], {
    cwd: root,
    env: { ...process.env, ...(built ? { PODSCALE_TEST_BUILT: '1' } : {}) },
    stdio: label ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  });
  if (label) {
    for (const stream of [child.stdout!, child.stderr!]) {
      const out = stream === child.stdout ? process.stdout : process.stderr;
      createInterface({ input: stream }).on('line', (line) => out.write(`[${label}] ${line}\n`));
    }
  }
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

const args = process.argv.slice(2);
let code: number;
if (args.length > 0) {
  code = await run(args);
} else {
  setup();
  const started = performance.now();
  const [controlPlane, local] = await Promise.all([run(['--project', 'control-plane'], 'control-plane', true), run(['--project', 'local'], 'local', true)]);
  const saturating = await run(['--project', 'saturating'], 'saturating', true);
  const groups = { 'control-plane': controlPlane, local, saturating };
  process.stdout.write(`\nnpm test: ${Object.entries(groups).map(([name, exit]) => `${name} ${exit === 0 ? 'passed' : `FAILED (exit ${exit})`}`).join(', ')} in ${((performance.now() - started) / 60_000).toFixed(1)} min\n`);
  code = Object.values(groups).find((exit) => exit !== 0) ?? 0;
}
process.exit(code);
