/**
 * The controller image ships one folder, dist/controller/: packages/operator/src/main.ts and everything it
 * imports (client-node included), bundled by esbuild into main.mjs (+ its source map), runnable
 * with no node_modules, like the service's bundle (scripts/build-service.ts).
 *
 *   node scripts/build-controller.ts    (part of `npm run build`)
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CONTROLLER_BUNDLE = 'dist/controller/main.mjs';

const result = await build({
  absWorkingDir: ROOT,
  // main.ts starts the controller when it is the process' main module; in the bundle its
  // import.meta.url is the bundle's, which `node main.mjs` makes the main module.
  entryPoints: ['packages/operator/src/main.ts'],
  outfile: CONTROLLER_BUNDLE,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  sourcemap: 'linked',
  sourcesContent: false,
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
console.log(`${CONTROLLER_BUNDLE}: ${(bytes / 2 ** 20).toFixed(2)} MiB with its source map`);
