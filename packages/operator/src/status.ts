/** The policy's status, written through the /status subresource. */
import type { CustomObjectsApi } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { backoffMs, MERGE, retriable, sleep } from './api.ts';
import type { PolicyDecision } from './decide.ts';
import { messageOf } from './errors.ts';
import { GROUP, PLURAL, VERSION, type AutoScalerPolicy, type Condition, type PolicyStatus } from './policy.ts';
import type { ControllerMetrics } from './telemetry.ts';

export class StatusWriter {
  readonly #custom: CustomObjectsApi;
  readonly #log: Logger;
  readonly #metrics: ControllerMetrics;

  constructor(custom: CustomObjectsApi, log: Logger, metrics: ControllerMetrics) {
    this.#custom = custom;
    this.#log = log;
    this.#metrics = metrics;
  }

  /** A status that did not change is not written: each write would wake every watcher of the policy. */
  async write(policy: AutoScalerPolicy, status: PolicyStatus): Promise<void> {
    const clean = JSON.parse(JSON.stringify(status)) as PolicyStatus;
    if (JSON.stringify(clean) === JSON.stringify(policy.status ?? {})) return;
    // Merge patch: a field this status lacks but the old one has is removed with null.
    const body: Record<string, unknown> = { ...clean };
    for (const field of Object.keys(policy.status ?? {})) if (!(field in body)) body[field] = null;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.#custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: policy.metadata.namespace!, plural: PLURAL, name: policy.metadata.name, body: { status: body } }, MERGE);
        return;
      } catch (error) {
        this.#metrics.errors.inc({ kind: 'status' });
        if (!retriable(error) || attempt >= 3) {
          this.#log.error({ policy: `${policy.metadata.namespace}/${policy.metadata.name}`, err: messageOf(error) }, 'status write failed');
          return;
        }
        await sleep(backoffMs(attempt));
      }
    }
  }
}

/** The status after a decision: what was decided, what the Deployment has, when it was last scaled. */
export function decidedStatus(status: PolicyStatus, decision: PolicyDecision, replicas: number, scaledAt: number | undefined, conditions: Condition[]): PolicyStatus {
  return {
    ...status,
    desiredReplicas: decision.desiredReplicas,
    currentReplicas: replicas,
    lastScaleTime: scaledAt === undefined ? undefined : new Date(scaledAt).toISOString(),
    metrics: decision.metrics,
    scheduleEntry: decision.schedule ? { ...decision.schedule.entry, since: new Date(decision.schedule.since).toISOString() } : undefined,
    conditions,
  };
}
