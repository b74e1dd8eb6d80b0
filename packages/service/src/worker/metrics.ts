import { Counter, Gauge, Histogram } from 'prom-client';
import { createRegistries, type MetricsRegistries } from '@podscale/fastify/metrics/exposition.ts';

/** Seconds; one message costs WORK_MS_PER_MESSAGE of CPU, so most land between 1 ms and 1 s. */
export const PROCESSING_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The worker's own series, beside prom-client's process metrics (the same registries as the HTTP
 * mode, one per exposition format). prom-client renames a counter in place while rendering
 * OpenMetrics (design notes §6), so each format's registry holds a counter of its own and both
 * are counted; the histogram and the gauges are shared.
 */
export class WorkerMetrics {
  readonly registries: MetricsRegistries = createRegistries();
  readonly #processed: Counter[];
  readonly #duration: Histogram;
  readonly #lag: Gauge;
  readonly #inFlight: Gauge;
  readonly #topic: string;
  #assigned = new Set<number>();

  constructor(topic: string) {
    this.#topic = topic;
    const { text, openMetrics } = this.registries;
    this.#processed = [text, openMetrics].map(
      (registry) => new Counter({ name: 'messages_processed_total', help: 'Kafka messages processed (each counted once per processing: redeliveries count again).', labelNames: ['topic'], registers: [registry] }),
    );
    const both = [text, openMetrics];
    this.#duration = new Histogram({ name: 'message_processing_duration_seconds', help: 'Time to process one Kafka message.', labelNames: ['topic'], buckets: PROCESSING_BUCKETS, registers: both });
    this.#lag = new Gauge({ name: 'kafka_consumer_lag', help: "Messages behind the log end on this worker's assigned partitions, as of their last fetch.", labelNames: ['topic', 'partition'], registers: both });
    this.#inFlight = new Gauge({ name: 'messages_in_flight', help: 'Kafka messages being processed right now.', registers: both });
    for (const counter of this.#processed) counter.inc({ topic }, 0);
  }

  /** A new assignment: only these partitions keep a lag series. */
  assigned(partitions: number[]): void {
    this.#assigned = new Set(partitions);
    this.#lag.reset();
  }

  started(): void {
    this.#inFlight.inc();
  }

  processed(seconds: number): void {
    this.#inFlight.dec();
    for (const counter of this.#processed) counter.inc({ topic: this.#topic });
    this.#duration.observe({ topic: this.#topic }, seconds);
  }

  lag(partition: number, lag: number): void {
    if (this.#assigned.has(partition)) this.#lag.set({ topic: this.#topic, partition: String(partition) }, lag);
  }
}
