#!/usr/bin/env node
/**
 * Process entry: config → app → listen → shutdown wiring. Everything else lives in modules that
 * tests can build without a process of their own. PODSCALE_MODE=worker runs packages/service/src/worker/main.ts instead
 * (a few kB of the bundle; the Kafka client it loads is a bundle of its own, see that file).
 */
import { buildApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger, logListening } from './logger.ts';
import { buildMetricsServer } from '@podscale/fastify/metrics-server.ts';
import { installGracefulShutdown } from '@podscale/fastify/shutdown.ts';
import { installLazySourceMaps } from './stack-traces.ts';
import { runWorker } from './worker/main.ts';

installLazySourceMaps(import.meta.url);

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`podscale: ${error.message}\n`);
    process.exit(1);
  }
}

const config = readConfig();
const logger = createLogger(config);
if (config.worker) {
  await runWorker({ ...config, worker: config.worker }, logger);
} else {
  await serveHttp();
}

async function serveHttp(): Promise<void> {
  const app = await buildApp(config, { logger });
  installGracefulShutdown({ app, logger, delayMs: config.shutdownDelayMs, timeoutMs: config.shutdownTimeoutMs });

  try {
    if (config.metricsPort !== undefined) {
      const metricsServer = buildMetricsServer(app.metrics.requests, app.metrics.registries);
      app.addHook('onClose', async () => metricsServer.close());
      await metricsServer.listen({ port: config.metricsPort, host: config.host });
      logger.info({ port: config.metricsPort }, 'metrics listening on their own port');
    }
    logListening(logger, await app.listen({ port: config.port, host: config.host }), config.logRequests);
  } catch (error) {
    logger.fatal({ err: error }, 'could not listen');
    process.exit(1);
  }
}
