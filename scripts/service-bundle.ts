/** Where `npm run build` writes the service bundle (scripts/build-service.ts), for the build, tests and bench. */
export const SERVICE_DIR = 'dist/service';
export const SERVICE_BUNDLE = `${SERVICE_DIR}/server.mjs`;
export const COMPILE_CACHE = `${SERVICE_DIR}/compile-cache`;

/** The environment that makes Node use the bundle's compile cache, wherever the folder was copied to. */
export function compileCacheEnv(serviceDir: string): Record<string, string> {
  return { NODE_COMPILE_CACHE: `${serviceDir}/compile-cache`, NODE_COMPILE_CACHE_PORTABLE: '1' };
}
