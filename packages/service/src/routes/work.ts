import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireFinite } from '../errors.ts';

export interface WorkRouteOptions {
  maxMs: number;
}

/**
 * Spins the CPU for `ms` milliseconds of wall time. This blocks the event loop on purpose: it is
 * what a CPU-bound handler does, and what drives the HPA's CPU-utilization metric.
 */
export function burnCpu(ms: number): number {
  const deadline = performance.now() + ms;
  let rounds = 0;
  let x = 0;
  do {
    for (let i = 0; i < 1000; i += 1) x = (x * 1103515245 + 12345) % 2147483648;
    rounds += 1;
  } while (performance.now() < deadline);
  return rounds + (x & 0); // keep x alive so the loop cannot be optimised away
}

export const workRoute: FastifyPluginAsyncTypebox<WorkRouteOptions> = async (app, { maxMs }) => {
  const schema = {
    querystring: Type.Object({ ms: Type.Integer({ minimum: 1, maximum: maxMs, default: 10 }) }),
    response: { 200: Type.Object({ requestedMs: Type.Integer(), tookMs: Type.Number(), rounds: Type.Integer() }) },
  };
  app.get('/api/work', { schema }, async (request) => {
    const ms = requireFinite(request.query.ms, 'querystring/ms');
    const started = performance.now();
    const rounds = burnCpu(ms);
    return { requestedMs: ms, tookMs: Math.round((performance.now() - started) * 100) / 100, rounds };
  });
};
