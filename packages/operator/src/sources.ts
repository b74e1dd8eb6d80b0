/**
 * Where metric values come from: metrics.k8s.io (CPU per pod), custom.metrics.k8s.io (a metric per
 * pod) through the API server, and a Prometheus instant query. Each read either returns values or
 * throws with a message for the status condition; an empty answer is an error, never zero.
 */
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Admin } from 'kafkajs';
import type { Logger } from 'pino';
import { createKafka } from '@podscale/kafka/client.ts';
import { readConsumerLag } from '@podscale/kafka/lag.ts';
import type { Quantity } from '@podscale/hpa/quantity.ts';
import { formatMilli, toMilli } from '@podscale/hpa/quantity.ts';
import type { ResourceSample } from '@podscale/hpa/types.ts';
import type { KafkaLagMetric } from './policy.ts';

const TIMEOUT_MS = 5_000;

/** A GET on the API server with the kubeconfig's credentials; JSON back. */
export async function apiGet(kc: KubeConfig, path: string): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  const url = new URL(path, cluster.server);
  const options: RequestOptions = { method: 'GET', headers: { accept: 'application/json' }, timeout: TIMEOUT_MS };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) {
          let message = body.slice(0, 300);
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? message;
          } catch {
            // not a Status object
          }
          reject(new Error(`GET ${url.pathname}: ${res.statusCode} ${message}`));
          return;
        }
        try {
          resolve(JSON.parse(body));
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url.pathname}: timed out after ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

interface PodMetricsItem {
  metadata: { name: string };
  timestamp?: string;
  window?: string;
  containers?: { name: string; usage?: { cpu?: string } }[];
}

/** metrics.k8s.io/v1beta1 pods: each pod's CPU usage (summed over its containers), as the HPA reads it. */
export async function readCpu(kc: KubeConfig, namespace: string, selector: string): Promise<Record<string, ResourceSample>> {
  const list = (await apiGet(kc, `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods?labelSelector=${encodeURIComponent(selector)}`)) as { items?: PodMetricsItem[] };
  const out: Record<string, ResourceSample> = {};
  for (const item of list.items ?? []) {
    const milli = (item.containers ?? []).reduce((sum, c) => sum + (c.usage?.cpu ? toMilli(c.usage.cpu) : 0), 0);
    const windowSeconds = item.window ? Number.parseFloat(item.window) : 60;
    out[item.metadata.name] = { value: formatMilli(milli), timestamp: item.timestamp ? Date.parse(item.timestamp) : undefined, window: Number.isFinite(windowSeconds) ? windowSeconds : 60 };
  }
  if (Object.keys(out).length === 0) throw new Error('metrics.k8s.io returned no pod metrics');
  return out;
}

/** custom.metrics.k8s.io/v1beta2: one metric for every pod the selector matches. */
export async function readPodsMetric(kc: KubeConfig, namespace: string, selector: string, metric: string): Promise<Record<string, Quantity>> {
  const list = (await apiGet(kc, `/apis/custom.metrics.k8s.io/v1beta2/namespaces/${encodeURIComponent(namespace)}/pods/*/${encodeURIComponent(metric)}?labelSelector=${encodeURIComponent(selector)}`)) as {
    items?: { describedObject?: { name?: string }; value?: string }[];
  };
  const out: Record<string, Quantity> = {};
  for (const item of list.items ?? []) if (item.describedObject?.name && item.value !== undefined) out[item.describedObject.name] = item.value;
  if (Object.keys(out).length === 0) throw new Error(`custom.metrics.k8s.io returned no values of ${metric}`);
  return out;
}

/** A Prometheus instant query: a scalar, or the sum of a vector's samples; no series is an error. */
export async function queryPrometheus(baseUrl: string, query: string, now = Date.now()): Promise<number> {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('query', query);
  url.searchParams.set('time', String(now / 1000));
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`Prometheus at ${url.origin} unreachable: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
  const body = (await response.json().catch(() => ({}))) as { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  if (!response.ok || body.status !== 'success') throw new Error(`Prometheus query failed: ${response.status} ${body.error ?? ''}`.trim());
  const data = body.data ?? {};
  let value: number;
  if (data.resultType === 'scalar') value = Number((data.result as [number, string])[1]);
  else if (data.resultType === 'vector') {
    const result = data.result as { value: [number, string] }[];
    if (result.length === 0) throw new Error('the query returned no series');
    value = result.reduce((sum, sample) => sum + Number(sample.value[1]), 0);
  } else throw new Error(`the query returned a ${data.resultType ?? 'unknown'}, not a scalar or an instant vector`);
  if (!Number.isFinite(value)) throw new Error(`the query returned ${value}`);
  return value;
}

/**
 * KafkaLag reads: one admin client per list of bootstrap servers, kept between reads (a read is
 * then two requests, no new connections). Short timeouts and one retry, so a broker that is down
 * fails the read within seconds (the policy holds its replicas) instead of kafkajs' ~30 s; a failed
 * read drops the client, and the next read connects afresh.
 */
export class KafkaLagReader {
  readonly #admins = new Map<string, Promise<Admin>>();
  readonly #logger: Logger | undefined;

  constructor(logger?: Logger) {
    this.#logger = logger;
  }

  async read(metric: KafkaLagMetric): Promise<{ lag: number; partitions: number }> {
    const key = metric.bootstrapServers.join(',');
    let admin = this.#admins.get(key);
    if (!admin) {
      const client = createKafka({ brokers: metric.bootstrapServers, clientId: 'podscale-controller', connectionTimeoutMs: 3_000, requestTimeoutMs: TIMEOUT_MS, retries: 1, ...(this.#logger ? { logger: this.#logger } : {}) }).admin();
      admin = client.connect().then(() => client);
      this.#admins.set(key, admin);
    }
    try {
      const lag = await readConsumerLag(await admin, metric.consumerGroup, metric.topic, { attempts: 3 });
      if (lag.partitionCount === 0) throw new Error(`topic ${metric.topic} has no partitions`);
      return { lag: lag.total, partitions: lag.partitionCount };
    } catch (error) {
      this.#admins.delete(key);
      void admin.then((a) => a.disconnect()).catch(() => undefined);
      throw new Error(`Kafka lag of group ${metric.consumerGroup} on ${metric.topic} from ${key}: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    const admins = [...this.#admins.values()];
    this.#admins.clear();
    await Promise.all(admins.map((admin) => admin.then((a) => a.disconnect()).catch(() => undefined)));
  }
}
