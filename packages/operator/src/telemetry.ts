/** The controller's own Prometheus metrics, on its own Registry. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function controllerMetrics() {
  const registry = new Registry();
  return {
    registry,
    reconciles: new Counter({ name: 'podscale_controller_reconciles_total', help: 'Policy reconciles, by result (ok, error, skipped)', labelNames: ['result'], registers: [registry] }),
    errors: new Counter({ name: 'podscale_controller_errors_total', help: 'Errors, by kind (metric, scale, status, api, informer, lease, event)', labelNames: ['kind'], registers: [registry] }),
    scales: new Counter({ name: 'podscale_controller_scale_operations_total', help: 'Writes to deployments/scale, by direction (up, down)', labelNames: ['direction'], registers: [registry] }),
    decision: new Histogram({
      name: 'podscale_controller_decision_duration_seconds',
      help: 'From the start of a reconcile to its decision (reads of the scale, pods and metrics included)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    leader: new Gauge({ name: 'podscale_controller_leader', help: '1 while this replica holds the leader lease', registers: [registry] }),
  };
}

export type ControllerMetrics = ReturnType<typeof controllerMetrics>;
