/**
 * How long and how often the bench (bench/run.ts) measures, and where: the server on core 0, the
 * load generator on core 1. `--smoke` shrinks every figure to a single brief run (~20 s), which
 * checks that the bench runs, not how fast anything is.
 */
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SMOKE = process.argv.includes('--smoke');
export const ROUNDS = SMOKE ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);
export const SECONDS = SMOKE ? 1 : Number(process.env.BENCH_SECONDS ?? 8);
// Throughput in more, shorter rounds: on this shared machine the noise comes in stretches of
// seconds, and more baseline/podscale pairs give a steadier median (3 × 8 s read 0.89× and 0.97× in
// two runs of the same code an hour apart).
export const THROUGHPUT_ROUNDS = SMOKE ? 1 : Number(process.env.BENCH_THROUGHPUT_ROUNDS ?? 7);
export const THROUGHPUT_SECONDS = SMOKE ? 1 : 4;
export const WARM_UP_SECONDS = SMOKE ? 1 : 2;
export const STARTUP_ROUNDS = SMOKE ? 1 : 7;
export const LOADED_SECONDS = SMOKE ? 2 : 30;
export const SERVER_CORE = '0';
export const CLIENT_CORE = '1';
export const GENERATOR_SAFE_RATE = 20_000;
