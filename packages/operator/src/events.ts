/** Events on a policy: every scale and every failure, each also a log line. */
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { messageOf } from './errors.ts';
import { GROUP, KIND, VERSION, type AutoScalerPolicy } from './policy.ts';
import type { ControllerMetrics } from './telemetry.ts';

export class PolicyEvents {
  readonly #core: CoreV1Api;
  readonly #identity: string;
  readonly #log: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #now: () => number;
  /** The last warning per policy, so a failure repeated at every resync is one Event. */
  readonly #lastWarning = new Map<string, string>();

  constructor(core: CoreV1Api, identity: string, log: Logger, metrics: ControllerMetrics, now: () => number) {
    this.#core = core;
    this.#identity = identity;
    this.#log = log;
    this.#metrics = metrics;
    this.#now = now;
  }

  /** After a clean reconcile (or the policy's deletion) the same failure is news again. */
  forget(key: string): void {
    this.#lastWarning.delete(key);
  }

  async warn(policy: AutoScalerPolicy, reason: string, message: string): Promise<void> {
    const key = `${policy.metadata.namespace}/${policy.metadata.name}`;
    if (this.#lastWarning.get(key) === `${reason}:${message}`) return;
    this.#lastWarning.set(key, `${reason}:${message}`);
    this.#log.warn({ policy: key, reason }, message);
    await this.event(policy, 'Warning', reason, message);
  }

  async event(policy: AutoScalerPolicy, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const namespace = policy.metadata.namespace!;
    const now = new Date(this.#now());
    try {
      await this.#core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${policy.metadata.name}.`, namespace },
          involvedObject: { apiVersion: `${GROUP}/${VERSION}`, kind: KIND, name: policy.metadata.name, namespace, uid: policy.metadata.uid, resourceVersion: policy.metadata.resourceVersion },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: 'podscale-controller' },
          reportingComponent: 'podscale-controller',
          reportingInstance: this.#identity,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (error) {
      this.#metrics.errors.inc({ kind: 'event' });
      this.#log.warn({ err: messageOf(error), reason }, 'event not recorded');
    }
  }
}
