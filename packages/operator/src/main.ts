/**
 * The controller process, top to bottom: flags → kubeconfig → health/metrics server → informers
 * → leader election → reconcile while leading; SIGTERM/SIGINT: stop reconciling, release the
 * Lease (another replica takes over at once), close the server, exit.
 */
import { createServer, type Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { PolicyController } from './controller.ts';
import { LeaderElector } from './leader.ts';
import { CONTROLLER_HELP, parseControllerArgs, type ControllerConfig } from './options.ts';
import { controllerMetrics } from './telemetry.ts';

function loadKubeconfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

export interface RunningController {
  address: { host: string; port: number };
  stop(): Promise<void>;
}

export async function runController(config: ControllerConfig): Promise<RunningController> {
  const log = pino({ level: config.logLevel, base: { component: 'podscale-controller', identity: config.identity } }, pino.destination({ dest: 1, sync: true }));
  const kc = loadKubeconfig(config.kubeconfig);
  const metrics = controllerMetrics();
  // Leads only after the informers have synced (start() below); the callbacks run later.
  const elector = new LeaderElector(kc, {
    namespace: config.leaseNamespace,
    name: config.leaseName,
    identity: config.identity,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    log,
    onStartedLeading: () => {
      metrics.leader.set(1);
      controller.resyncAll();
    },
    onStoppedLeading: () => metrics.leader.set(0),
  });
  const controller = new PolicyController({
    kc,
    namespace: config.namespace,
    prometheusUrl: config.prometheusUrl,
    minCooldownSeconds: config.minCooldownSeconds,
    resyncMs: config.resyncMs,
    identity: config.identity,
    log,
    metrics,
    isLeader: () => elector.isLeader,
  });

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ready = controller.synced;
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok\n' : 'informers not synced\n');
    } else if (path === '/metrics') {
      void metrics.registry.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const bound = server.address() as { address: string; port: number };
  log.info({ host: bound.address, port: bound.port }, 'health and metrics listening');

  await controller.start();
  log.info({ namespace: config.namespace ?? '(all)', prometheusUrl: config.prometheusUrl, synced: controller.synced }, 'informers started');

  elector.start();

  let stopping: Promise<void> | undefined;
  return {
    address: { host: bound.address, port: bound.port },
    stop: () =>
      (stopping ??= (async () => {
        log.info('stopping');
        await controller.stop();
        await elector.stop();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        log.info('stopped');
      })()),
  };
}

/** Process entry: `node dist/controller/main.mjs [flags]` (the image) and `podscale controller [flags]`. */
export async function controllerMain(args: string[]): Promise<void> {
  const config = parseControllerArgs(args);
  if (config === 'help') {
    process.stdout.write(CONTROLLER_HELP);
    return;
  }
  const running = await runController(config);
  const shutdown = (signal: string) => {
    process.stdout.write(`${JSON.stringify({ level: 30, msg: `received ${signal}` })}\n`);
    void running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  controllerMain(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`podscale-controller: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
