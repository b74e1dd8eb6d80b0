/** Where `npm run build` writes the service bundle (scripts/build-service.ts), for the build, tests and bench. */
export const SERVICE_DIR = 'dist/service';
export const SERVICE_BUNDLE = `${SERVICE_DIR}/server.mjs`;
export const COMPILE_CACHE = `${SERVICE_DIR}/compile-cache`;

/**
 * V8's young generation capped at 4 MiB per semi-space. Left to itself, V8 grew it under load to
 * a peak RSS of 121–123 MiB at max load (bare Fastify: 98–99 MiB) against a 128 Mi memory request;
 * capped, the peak is 101–102 MiB, and CPU per request, measured side by side, moved by less than
 * its noise (0.975–1.016×). docs/performance.md.
 */
export const SERVICE_NODE_OPTIONS = '--max-semi-space-size=4';

/**
 * The environment the image runs the service with (the Dockerfile sets the same, a test checks):
 * Node's compile cache for the bundle, wherever the folder was copied to, and SERVICE_NODE_OPTIONS.
 */
export function serviceEnv(serviceDir: string): Record<string, string> {
  return { NODE_COMPILE_CACHE: `${serviceDir}/compile-cache`, NODE_COMPILE_CACHE_PORTABLE: '1', NODE_OPTIONS: SERVICE_NODE_OPTIONS };
}
