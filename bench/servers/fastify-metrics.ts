// Peer: Fastify with the fastify-metrics plugin (prom-client per request, route labels).
import Fastify, { type FastifyPluginAsync } from 'fastify';
import fastifyMetrics from 'fastify-metrics';

// A CommonJS module compiled from ESM: the plugin is the default export's default.
const metricsPlugin = (fastifyMetrics as unknown as { default: FastifyPluginAsync<Record<string, unknown>> }).default;

const app = Fastify({ logger: false });
await app.register(metricsPlugin, { endpoint: '/metrics', routeMetrics: { enabled: true } });
app.get('/', async () => ({ hello: 'world' }));
app.get('/readyz', async () => ({ status: 'ready' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
