/** The controller's flags (node:util parseArgs, so the deployable does not ship the CLI). */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '@podscale/hpa/duration.ts';

export interface ControllerConfig {
  kubeconfig?: string;
  namespace?: string;
  prometheusUrl: string;
  minCooldownSeconds: number;
  resyncMs: number;
  host: string;
  port: number;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  logLevel: string;
}

export const CONTROLLER_HELP = `Usage: podscale controller [options]

Reconciles AutoScalerPolicy objects (autoscale.podscale.dev/v1): writes the replicas of their
Deployments through deployments/scale. Run two replicas; a Lease elects the one that writes.

Options:
  --kubeconfig <path>        kubeconfig (default: in-cluster service account, else $KUBECONFIG / ~/.kube/config)
  --namespace <ns>           watch only this namespace (default: all)
  --prometheus-url <url>     Prometheus for type: Prometheus metrics (default: http://prometheus.podscale.svc:9090)
  --min-cooldown <duration>  lower bound of every policy's cooldownSeconds (default: 120s)
  --resync <duration>        reconcile every policy at least this often (default: 15s, at most 30s)
  --host <address>           address of /healthz, /readyz, /metrics (default: 0.0.0.0)
  --port <port>              their port (default: 8081; 0 picks a free one)
  --lease-namespace <ns>     namespace of the leader Lease (default: $POD_NAMESPACE or podscale)
  --lease-name <name>        the Lease (default: podscale-controller)
  --identity <id>            this replica's holder identity (default: $POD_NAME or hostname-pid)
  --lease-duration <d>       a leader's lease is taken over after this long without renewal (default: 15s)
  --renew-deadline <d>       the leader steps down if it cannot renew for this long (default: 10s)
  --retry-period <d>         how often candidates try and the leader renews (default: 2s)
  --log-level <level>        pino level (default: info)
  -h, --help                 show this help
`;

function duration(name: string, text: string): number {
  const seconds = parseDuration(text);
  if (seconds < 0) throw new Error(`--${name} must not be negative`);
  return seconds;
}

export function parseControllerArgs(args: string[], env: NodeJS.ProcessEnv = process.env): ControllerConfig | 'help' {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'prometheus-url': { type: 'string', default: 'http://prometheus.podscale.svc:9090' },
      'min-cooldown': { type: 'string', default: '120s' },
      resync: { type: 'string', default: '15s' },
      host: { type: 'string', default: '0.0.0.0' },
      port: { type: 'string', default: '8081' },
      'lease-namespace': { type: 'string', default: env.POD_NAMESPACE ?? 'podscale' },
      'lease-name': { type: 'string', default: 'podscale-controller' },
      identity: { type: 'string', default: env.POD_NAME ?? `${hostname()}-${process.pid}` },
      'lease-duration': { type: 'string', default: '15s' },
      'renew-deadline': { type: 'string', default: '10s' },
      'retry-period': { type: 'string', default: '2s' },
      'log-level': { type: 'string', default: env.LOG_LEVEL ?? 'info' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error('--port must be a port number');
  const config: ControllerConfig = {
    kubeconfig: values.kubeconfig,
    namespace: values.namespace,
    prometheusUrl: new URL(values['prometheus-url']).toString(),
    minCooldownSeconds: duration('min-cooldown', values['min-cooldown']),
    resyncMs: duration('resync', values.resync) * 1000,
    host: values.host,
    port,
    leaseNamespace: values['lease-namespace'],
    leaseName: values['lease-name'],
    identity: values.identity,
    leaseDurationMs: duration('lease-duration', values['lease-duration']) * 1000,
    renewDeadlineMs: duration('renew-deadline', values['renew-deadline']) * 1000,
    retryPeriodMs: duration('retry-period', values['retry-period']) * 1000,
    logLevel: values['log-level'],
  };
  if (config.resyncMs <= 0 || config.resyncMs > 30_000) throw new Error('--resync must be more than 0 and at most 30s');
  if (!(config.leaseDurationMs > config.renewDeadlineMs && config.renewDeadlineMs > config.retryPeriodMs && config.retryPeriodMs > 0)) {
    throw new Error('need --lease-duration > --renew-deadline > --retry-period > 0 (as client-go)');
  }
  return config;
}
