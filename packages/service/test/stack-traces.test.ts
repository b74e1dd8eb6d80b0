import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from '../../../test/helpers/child.ts';

let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('maps stack frames of a bundle back to its sources, reading the map only when a trace is printed', async () => {
  dir = await mkdtemp(join(tmpdir(), 'podscale-stack-'));
  const source = join(dir, 'boom.ts');
  await writeFile(
    source,
    [
      `import { installLazySourceMaps } from ${JSON.stringify(join(ROOT, 'packages/service/src/stack-traces.ts'))};`,
      'installLazySourceMaps(import.meta.url);',
      'function explode(): never {',
      "  throw new Error('boom');",
      '}',
      'try { explode(); } catch (error) { console.log((error as Error).stack); }',
    ].join('\n'),
  );
  // The same options as the service bundle (scripts/build-service.ts).
  await build({ entryPoints: [source], outfile: join(dir, 'boom.mjs'), bundle: true, platform: 'node', format: 'esm', sourcemap: 'linked', sourcesContent: false, minifyWhitespace: true, logLevel: 'silent' });
  const { stdout } = await promisify(execFile)(process.execPath, [join(dir, 'boom.mjs')]);
  const lines = stdout.trim().split('\n');
  expect(lines[0]).toBe('Error: boom');
  expect(lines[1]).toBe(`    at explode (${source}:4:9)`);
  expect(lines[2]).toBe(`    at ${source}:6:7`);
});
