import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { requireFinite } from '../errors.ts';

export interface DelayRouteOptions {
  maxMs: number;
}

/** Waits without using CPU: load on this route moves requests per second, not CPU utilization. */
export const delayRoute: FastifyPluginAsyncTypebox<DelayRouteOptions> = async (app, { maxMs }) => {
  const schema = {
    querystring: Type.Object({ ms: Type.Integer({ minimum: 0, maximum: maxMs, default: 100 }) }),
    response: { 200: Type.Object({ delayedMs: Type.Integer() }) },
  };
  app.get('/api/delay', { schema }, async (request) => {
    const ms = requireFinite(request.query.ms, 'querystring/ms');
    await sleep(ms);
    return { delayedMs: ms };
  });
};
