/** A policy's metrics, each read from its source (sources.ts); one that fails is an error, never zero. */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { MetricValues } from './decide.ts';
import { messageOf } from './errors.ts';
import { metricLabel, type PolicySpec } from './policy.ts';
import { KafkaLagReader, queryPrometheus, readCpu, readPodsMetric } from './sources.ts';
import type { ControllerMetrics } from './telemetry.ts';

export class MetricReader {
  readonly #kc: KubeConfig;
  readonly #prometheusUrl: string;
  readonly #metrics: ControllerMetrics;
  readonly #kafka: KafkaLagReader;

  constructor(kc: KubeConfig, prometheusUrl: string, log: Logger, metrics: ControllerMetrics) {
    this.#kc = kc;
    this.#prometheusUrl = prometheusUrl;
    this.#metrics = metrics;
    this.#kafka = new KafkaLagReader(log.child({ source: 'kafka' }));
  }

  /** selector: the Deployment's pods, as a label selector string. */
  async read(spec: PolicySpec, namespace: string, selector: string, now: number): Promise<MetricValues> {
    const values: MetricValues = { errors: {}, pods: {}, prometheus: {}, kafka: {} };
    await Promise.all(
      (spec.metrics ?? []).map(async (metric) => {
        try {
          if (metric.type === 'CPU') values.cpu = await readCpu(this.#kc, namespace, selector);
          else if (metric.type === 'Pods') values.pods![metric.name] = await readPodsMetric(this.#kc, namespace, selector, metric.name);
          else if (metric.type === 'KafkaLag') values.kafka![metricLabel(metric)] = await this.#kafka.read(metric);
          else values.prometheus![metric.query] = await queryPrometheus(this.#prometheusUrl, metric.query, now);
        } catch (error) {
          this.#metrics.errors.inc({ kind: 'metric' });
          values.errors![metricLabel(metric)] = messageOf(error);
        }
      }),
    );
    return values;
  }

  async close(): Promise<void> {
    await this.#kafka.close();
  }
}
