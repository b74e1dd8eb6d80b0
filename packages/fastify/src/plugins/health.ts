import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Lifecycle } from '../lifecycle.ts';

export interface HealthPluginOptions {
  lifecycle: Lifecycle;
}

/**
 * Liveness answers 200 whenever the event loop can run a handler — during a drain too, or kubelet
 * would kill the pod mid-drain. Readiness is 200 only between listen and the start of a drain, so
 * the pod receives traffic only while it will keep serving it.
 */
async function healthPlugin(app: FastifyInstance, { lifecycle }: HealthPluginOptions): Promise<void> {
  app.addHook('onListen', async () => {
    lifecycle.markListening();
  });

  const probe = { config: { metrics: false as const, alwaysServe: true as const }, logLevel: 'silent' as const };

  app.get('/healthz', probe, async () => ({ status: 'ok' }));

  app.get('/readyz', probe, async (_request, reply) => {
    const phase = lifecycle.phase;
    if (phase !== 'ready') void reply.code(503);
    return { status: phase };
  });
}

export default fp(healthPlugin, { name: 'podscale-health', fastify: '5.x' });
