/**
 * The service image ships one folder, dist/service/: packages/service/src/server.ts and everything it imports,
 * bundled by esbuild into server.mjs (+ its source map), runnable with no node_modules, and
 * Node's compile cache for it, made by one warm-up run of the bundle. The tools (CLI, load, lab)
 * run from their TypeScript source with their dependencies.
 *
 *   node scripts/build-service.ts    (part of `npm run build`)
 *
 * Worker mode (PODSCALE_MODE=worker) needs the Kafka client: packages/kafka/src/consumer.ts and kafkajs go into a
 * bundle of their own, kafka.mjs beside server.mjs, which server.mjs imports only in worker mode;
 * the HTTP mode loads exactly what it did before.
 *
 * Run the bundle with NODE_COMPILE_CACHE=dist/service/compile-cache NODE_COMPILE_CACHE_PORTABLE=1
 * (the Dockerfile sets both): V8 then skips parsing and compiling the 1.3 MB file and every
 * function the warm-up ran, which roughly halves the time to the first /readyz 200.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { COMPILE_CACHE, serviceEnv, SERVICE_BUNDLE, SERVICE_DIR } from './service-bundle.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { name: string; version: string };

/** The worker's Kafka code, bundled apart; server.mjs imports it as ./kafka.mjs. */
const KAFKA_ENTRY = 'packages/kafka/src/consumer.ts';
const KAFKA_BUNDLE = `${SERVICE_DIR}/kafka.mjs`;
const kafkaApart: Plugin = {
  name: 'kafka-apart',
  setup(builder) {
    builder.onResolve({ filter: /\/kafka\/consumer\.ts$/ }, (args) => {
      if (args.kind !== 'dynamic-import') throw new Error(`${args.importer} imports ${args.path} statically: only a dynamic import keeps Kafka out of the HTTP mode`);
      return { path: './kafka.mjs', external: true };
    });
  },
};

const common: BuildOptions = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  // Fastify's dependencies are CommonJS and require() Node's built-ins; an ES module has no require.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  define: { PODSCALE_PACKAGE: JSON.stringify({ name: pkg.name, version: pkg.version }) },
  // Stack traces map back to src/ and node_modules/ with `node --enable-source-maps`; the sources
  // themselves stay out of the map (they would triple its size and no trace needs them).
  sourcemap: 'linked',
  sourcesContent: false,
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
};

for (const [entry, outfile, plugins] of [
  ['packages/service/src/server.ts', SERVICE_BUNDLE, [kafkaApart]],
  [KAFKA_ENTRY, KAFKA_BUNDLE, []],
] as const) {
  const result = await build({ ...common, entryPoints: [entry], outfile, plugins: [...plugins] });
  const bytes = Object.values(result.metafile!.outputs).reduce((sum, output) => sum + output.bytes, 0);
  console.log(`${outfile}: ${(bytes / 2 ** 20).toFixed(2)} MiB with its source map`);
}

/**
 * One run of the bundle fills the compile cache: start, answer each route a few times (so the
 * functions a request runs are compiled and cached too, not only the top level), SIGTERM. Node
 * writes the cache as the process exits.
 */
async function warmUp(): Promise<void> {
  rmSync(`${ROOT}${COMPILE_CACHE}`, { recursive: true, force: true });
  const child = spawn(process.execPath, [`${ROOT}${SERVICE_BUNDLE}`], {
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', SHUTDOWN_DELAY_MS: '0', POD_NAME: 'build', ...serviceEnv(`${ROOT}${SERVICE_DIR}`) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  let url: string | undefined;
  for await (const line of createInterface({ input: child.stdout! })) {
    const match = /"msg":"Server listening at (http:\/\/[^"]+)"/.exec(line);
    if (match) {
      url = match[1];
      break;
    }
  }
  if (!url) throw new Error('the bundle exited before listening');
  const paths = ['/', '/readyz', '/healthz', '/metrics', '/api/work?ms=1', '/api/delay?ms=0', '/api/work?ms=0', '/nowhere'];
  for (let i = 0; i < 20; i += 1) {
    for (const path of paths) await (await fetch(`${url}${path}`)).arrayBuffer();
    await (await fetch(`${url}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1]}' })).arrayBuffer();
  }
  child.kill('SIGTERM');
  const [code] = await exited;
  if (code !== 0) throw new Error(`the warm-up run exited ${code}`);
}

await warmUp();
// Node writes the cache readable by its owner only; the image runs as another user (10001).
for (const entry of readdirSync(`${ROOT}${COMPILE_CACHE}`, { recursive: true, withFileTypes: true })) {
  chmodSync(`${entry.parentPath}/${entry.name}`, entry.isDirectory() ? 0o755 : 0o644);
}
console.log(`${COMPILE_CACHE}: filled by a warm-up run`);
