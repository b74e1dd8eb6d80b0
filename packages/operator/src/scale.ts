/** Writes a Deployment's replicas through its scale subresource, never over a write it has not seen. */
import type { AppsV1Api, V1Scale } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { backoffMs, codeOf, MERGE, retriable, sleep } from './api.ts';

export class Scaler {
  readonly #apps: AppsV1Api;
  readonly #log: Logger;
  readonly #mayRetry: () => boolean;

  /** mayRetry: false once the process stops or loses the lease, so a retry cannot write as a follower. */
  constructor(apps: AppsV1Api, log: Logger, mayRetry: () => boolean) {
    this.#apps = apps;
    this.#log = log;
    this.#mayRetry = mayRetry;
  }

  /** Writes spec.replicas through deployments/scale with the resourceVersion read; retries conflicts and 5xx. */
  async scale(namespace: string, name: string, replicas: number, read: V1Scale): Promise<{ from: number; to: number } | undefined> {
    let scale = read;
    for (let attempt = 0; ; attempt += 1) {
      const from = scale.spec?.replicas ?? 0;
      if (from === replicas) return undefined;
      try {
        await this.#apps.patchNamespacedDeploymentScale({ name, namespace, body: { metadata: { resourceVersion: scale.metadata?.resourceVersion }, spec: { replicas } } }, MERGE);
        return { from, to: replicas };
      } catch (error) {
        if (!retriable(error) || attempt >= 4 || !this.#mayRetry()) throw error;
        const delay = backoffMs(attempt);
        this.#log.warn({ deployment: `${namespace}/${name}`, code: codeOf(error), attempt, retryInMs: Math.round(delay) }, 'scale write failed; retrying');
        await sleep(delay);
        scale = await this.#apps.readNamespacedDeploymentScale({ name, namespace });
      }
    }
  }
}
