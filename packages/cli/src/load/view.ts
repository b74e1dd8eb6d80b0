import { createLogUpdate } from 'log-update';
import type { RunSummary } from './engine.ts';
import type { TimelinePoint } from './record.ts';
import { ERROR_KINDS, failures } from './stats.ts';
import type { KafkaPoint } from './watch/kafka.ts';

export interface View {
  update(point: TimelinePoint, total: { elapsedS: number; durationS: number }): void;
  /** `kafkaEnd`: the group's reading after the last ack (kafka:// with --group). */
  finish(summary: RunSummary, kafkaEnd?: KafkaPoint): void;
}

/**
 * A kafka:// run: an answer is the broker's ack, not an HTTP response, so there are no status
 * classes to show and "achieved" reads "acked".
 */
export interface ViewOptions {
  kafka?: { group?: string };
}

const ms = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(2)}s` : `${value.toFixed(value < 10 ? 2 : 1)}ms`);

function errorText(point: TimelinePoint): string {
  const parts = [
    ...(['4xx', '5xx'] as const).filter((c) => point.counts.status[c] > 0).map((c) => `${c}=${point.counts.status[c]}`),
    ...ERROR_KINDS.filter((kind) => point.counts.errors[kind] > 0).map((kind) => `${kind}=${point.counts.errors[kind]}`),
    ...(point.counts.dropped > 0 ? [`dropped=${point.counts.dropped}`] : []),
  ];
  return parts.length === 0 ? 'none' : parts.join(' ');
}

function replicaText(point: TimelinePoint): string {
  const replicas = point.replicas;
  if (!replicas) return '';
  const metrics = replicas.metrics.map((m) => `${m.name} ${m.current ?? '<unknown>'}/${m.target}`).join(', ');
  return `replicas ${replicas.ready}/${replicas.desired} ready${metrics ? ` · ${metrics}` : ''}`;
}

const perSecond = (count: number, point: TimelinePoint) => Math.round(count / point.durationS);
const figure = (value: number | null) => (value === null ? '?' : String(value));

function kafkaText(kafka: KafkaPoint): string {
  return `lag ${figure(kafka.lag)} · consumers ${figure(kafka.consumers)} · partitions ${figure(kafka.partitions)}${kafka.error ? ` · reading failed: ${kafka.error}` : ''}`;
}

/** One line per interval: for pipes, CI logs and `| tee`. */
export function plainLine(point: TimelinePoint, options: ViewOptions = {}): string {
  const pods = Object.entries(point.counts.pods)
    .map(([pod, count]) => `${pod}:${perSecond(count, point)}`)
    .join(',');
  return [
    `t=${point.t.toFixed(1)}s`,
    `target=${Math.round(point.targetRate)}/s`,
    `offered=${perSecond(point.counts.offered, point)}/s`,
    `${options.kafka ? 'acked' : 'achieved'}=${perSecond(point.counts.completed, point)}/s`,
    `p50=${ms(point.latency.p50)}`,
    `p99=${ms(point.latency.p99)}`,
    `max=${ms(point.latency.max)}`,
    `errors=${errorText(point).replaceAll(' ', ',')}`,
    `inflight=${point.inFlight}`,
    ...(point.replicas ? [`replicas=${point.replicas.ready}/${point.replicas.desired}`] : []),
    ...(pods ? [`pods=${pods}`] : []),
    ...(point.kafka ? [`lag=${figure(point.kafka.lag)}`, `consumers=${figure(point.kafka.consumers)}`, `partitions=${figure(point.kafka.partitions)}`, ...(point.kafka.error ? ['lag-read-failed'] : [])] : []),
  ].join(' ');
}

export function summaryText(summary: RunSummary, options: ViewOptions = {}, kafkaEnd?: KafkaPoint): string {
  const c = summary.counts;
  const l = summary.latency;
  if (options.kafka) {
    return [
      `${summary.stoppedBy === 'interrupted' ? 'interrupted' : 'done'} after ${summary.durationS.toFixed(1)}s: offered ${c.offered} (${summary.offeredRate}/s), sent ${c.sent}, acked ${c.completed} (${summary.achievedRate}/s), dropped ${c.dropped}`,
      `errors ${ERROR_KINDS.map((k) => `${k}=${c.errors[k]}`).join(' ')} · failed ${failures(c)} (${(summary.errorRate * 100).toFixed(2)}%)`,
      `latency from due time to ack: p50 ${ms(l.p50)} · p90 ${ms(l.p90)} · p99 ${ms(l.p99)} · p99.9 ${ms(l.p999)} · max ${ms(l.max)} (${l.count} acks)`,
      ...(kafkaEnd ? [`group ${options.kafka.group} after the last ack: ${kafkaText(kafkaEnd)}`] : []),
    ].join('\n');
  }
  return [
    `${summary.stoppedBy === 'interrupted' ? 'interrupted' : 'done'} after ${summary.durationS.toFixed(1)}s: offered ${c.offered} (${summary.offeredRate}/s), sent ${c.sent}, completed ${c.completed} (${summary.achievedRate}/s), dropped ${c.dropped}`,
    `status 2xx=${c.status['2xx']} 3xx=${c.status['3xx']} 4xx=${c.status['4xx']} 5xx=${c.status['5xx']} · errors ${ERROR_KINDS.map((k) => `${k}=${c.errors[k]}`).join(' ')} · failed ${failures(c)} (${(summary.errorRate * 100).toFixed(2)}%)`,
    `latency from due time: p50 ${ms(l.p50)} · p90 ${ms(l.p90)} · p99 ${ms(l.p99)} · p99.9 ${ms(l.p999)} · max ${ms(l.max)} (${l.count} responses)`,
  ].join('\n');
}

/** One line per pod: its share of the responses, and what the HPA last read for it. */
function podLines(point: TimelinePoint, served: [string, number][], servedTotal: number): string[] {
  const known = point.replicas?.pods ?? [];
  const names = [...new Set([...known.map((p) => p.name), ...served.map(([name]) => name)])].sort();
  return names.map((name) => {
    const count = served.find(([pod]) => pod === name)?.[1] ?? 0;
    const pod = known.find((p) => p.name === name);
    const state = pod ? (pod.deleting ? 'terminating' : pod.ready ? 'ready' : 'not ready') : '';
    const hpa = pod ? `  hpa reads ${pod.qps === null ? '-' : pod.qps.toFixed(1)} req/s, cpu ${pod.cpuPercent === null ? '-' : `${pod.cpuPercent}%`}` : '';
    return `  ${name.padEnd(26)} ${state.padEnd(11)} ${bar(servedTotal ? count / servedTotal : 0, 16)} ${String(perSecond(count, point)).padStart(5)}/s${hpa}`;
  });
}

function bar(fraction: number, width: number): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** The live view: redrawn in place every interval (log-update). */
export function liveView(stream: NodeJS.WriteStream, options: ViewOptions = {}): View {
  const update = createLogUpdate(stream, { showCursor: true });
  return {
    update(point, total) {
      const pods = Object.entries(point.counts.pods).sort(([a], [b]) => a.localeCompare(b));
      const podTotal = pods.reduce((sum, [, count]) => sum + count, 0);
      const lines = [
        `podscale load  ${bar(total.elapsedS / total.durationS, 30)} ${total.elapsedS.toFixed(0)}/${total.durationS.toFixed(0)}s`,
        `rate      target ${Math.round(point.targetRate)}/s · offered ${perSecond(point.counts.offered, point)}/s · ${options.kafka ? 'acked' : 'achieved'} ${perSecond(point.counts.completed, point)}/s · in flight ${point.inFlight}`,
        `latency   p50 ${ms(point.latency.p50)} · p90 ${ms(point.latency.p90)} · p99 ${ms(point.latency.p99)} · p99.9 ${ms(point.latency.p999)} · max ${ms(point.latency.max)}`,
        `errors    ${errorText(point)}`,
      ];
      if (point.kafka) lines.push(`kafka     group ${options.kafka?.group} · ${kafkaText(point.kafka)}`);
      const replicas = replicaText(point);
      if (replicas) lines.push(`scaling   ${replicas}`);
      if (point.replicas?.metricsSource) lines.push(`          per-pod rate from ${point.replicas.metricsSource}`);
      if (point.replicas?.reason) lines.push(`          HPA: ${point.replicas.reason}`);
      lines.push(...podLines(point, pods, podTotal));
      update(lines.join('\n'));
    },
    finish(summary, kafkaEnd) {
      update.done();
      stream.write(`${summaryText(summary, options, kafkaEnd)}\n`);
    },
  };
}

export function plainView(stream: NodeJS.WritableStream, options: ViewOptions = {}): View {
  return {
    update: (point) => stream.write(`${plainLine(point, options)}\n`),
    finish: (summary, kafkaEnd) => stream.write(`${summaryText(summary, options, kafkaEnd)}\n`),
  };
}
