import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { toMilli } from '@podscale/hpa/quantity.ts';
import type { RunRecord } from './record.ts';
import { ERROR_KINDS } from './stats.ts';

const require = createRequire(import.meta.url);
const asset = (path: string) => readFileSync(require.resolve(path), 'utf8');

export interface Chart {
  title: string;
  unit: string;
  log?: boolean;
  stepped?: boolean;
  series: { label: string; values: (number | null)[] }[];
}

/** The time series the report plots, from the run's timeline. */
export function reportCharts(record: RunRecord): Chart[] {
  const timeline = record.timeline;
  const rate = (f: (p: (typeof timeline)[number]) => number) => timeline.map((p) => Math.round((f(p) / p.durationS) * 10) / 10);
  const pods = [...new Set(timeline.flatMap((p) => Object.keys(p.counts.pods)))].sort();
  // A kafka:// run's answers are acks: no status classes, and "achieved" is "acked".
  const kafka = record.kafka !== undefined;
  const charts: Chart[] = [
    {
      title: kafka ? 'Message rate' : 'Request rate',
      unit: kafka ? 'msg/s' : 'req/s',
      series: [
        { label: 'target', values: timeline.map((p) => p.targetRate) },
        { label: 'offered', values: rate((p) => p.counts.offered) },
        { label: kafka ? 'acked' : 'achieved', values: rate((p) => p.counts.completed) },
      ],
    },
    {
      title: kafka ? 'Latency from due time to ack' : 'Latency from due time',
      unit: 'ms',
      log: true,
      series: (['p50', 'p90', 'p99', 'max'] as const).map((key) => ({ label: key, values: timeline.map((p) => (p.latency.count > 0 ? Math.max(p.latency[key], 0.001) : null)) })),
    },
    {
      title: 'Failures',
      unit: 'per s',
      series: [
        ...(kafka ? [] : (['4xx', '5xx'] as const).map((c) => ({ label: c, values: rate((p) => p.counts.status[c]) }))),
        ...ERROR_KINDS.map((kind) => ({ label: kind, values: rate((p) => p.counts.errors[kind]) })),
        { label: 'dropped', values: rate((p) => p.counts.dropped) },
      ],
    },
  ];
  if (timeline.some((p) => p.replicas)) {
    charts.push({
      title: 'Replicas',
      unit: 'pods',
      stepped: true,
      series: [
        { label: 'desired', values: timeline.map((p) => p.replicas?.desired ?? null) },
        { label: 'ready', values: timeline.map((p) => p.replicas?.ready ?? null) },
      ],
    });
  }
  charts.push(...metricCharts(record), ...kafkaCharts(record));
  if (pods.length > 0) {
    // Connections, not requests, are balanced across pods, so per-second shares jump around; a
    // 5-second moving average shows the split.
    charts.push({ title: 'Responses per pod, 5 s average', unit: 'req/s', series: pods.map((pod) => ({ label: pod, values: movingAverage(rate((p) => p.counts.pods[pod] ?? 0), 5) })) });
  }
  return charts;
}

/** A metric value as the HPA reports it ("45%", "45", "150500m", "1.5k") as a number; null when unknown. */
function metricNumber(text: string | null | undefined): number | null {
  if (text === null || text === undefined || text === '?') return null;
  const bare = text.endsWith('%') ? text.slice(0, -1) : text;
  try {
    return toMilli(bare) / 1000;
  } catch {
    return null;
  }
}

/**
 * One chart per HPA metric: its current value (as the HPA last computed it) against its target,
 * per second of the run, so that the replica changes can be read against what drove them.
 */
export function metricCharts(record: RunRecord): Chart[] {
  const timeline = record.timeline;
  const names = [...new Set(timeline.flatMap((p) => p.replicas?.metrics.map((m) => m.name) ?? []))];
  return names.map((name) => {
    const samples = timeline.map((p) => p.replicas?.metrics.find((m) => m.name === name));
    const percent = name === 'cpu' || name === 'memory' || samples.some((m) => m?.target.endsWith('%'));
    return {
      title: `HPA metric ${name}: current vs target`,
      unit: percent ? '% of request' : 'per pod',
      stepped: true,
      series: [
        { label: 'current', values: samples.map((m) => metricNumber(m?.current)) },
        { label: 'target', values: samples.map((m) => metricNumber(m?.target)) },
      ],
    };
  });
}

/**
 * The consumer group the run loaded (kafka:// with --group): its lag as the lag reader saw it each
 * second, and its members against the topic's partitions (members beyond those sit idle).
 */
export function kafkaCharts(record: RunRecord): Chart[] {
  const timeline = record.timeline;
  if (!timeline.some((p) => p.kafka)) return [];
  const group = record.kafka?.group ?? '?';
  return [
    { title: `Consumer lag of group ${group}`, unit: 'messages', series: [{ label: 'lag', values: timeline.map((p) => p.kafka?.lag ?? null) }] },
    {
      title: `Consumers in group ${group}`,
      unit: 'members',
      stepped: true,
      series: [
        { label: 'consumers', values: timeline.map((p) => p.kafka?.consumers ?? null) },
        { label: 'partitions', values: timeline.map((p) => p.kafka?.partitions ?? null) },
      ],
    },
  ];
}

function movingAverage(values: number[], width: number): number[] {
  return values.map((_, i) => {
    const window = values.slice(Math.max(0, i - width + 1), i + 1);
    return Math.round((window.reduce((a, b) => a + b, 0) / window.length) * 10) / 10;
  });
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
// JSON inside <script>: "</script>" in a string must not end the element.
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/** A self-contained HTML page (uPlot and the data inlined) that opens from disk. */
export function renderReport(record: RunRecord): string {
  const s = record.summary;
  const kafka = record.kafka;
  const end = kafka?.end;
  const rows: [string, string][] = [
    ['targets', record.options.targets.map((t) => `${escapeHtml(t.method)} ${escapeHtml(t.url)}${record.options.targets.length > 1 ? ` ×${t.weight}` : ''}`).join('<br>')],
    ['started', record.startedAt],
    ['duration', `${s.durationS.toFixed(1)} s (${s.stoppedBy})`],
    ...(kafka
      ? ([
          ['messages', `offered ${s.counts.offered} (${s.offeredRate}/s) · acked ${s.counts.completed} (${s.achievedRate}/s) · dropped ${s.counts.dropped}`],
          ['kafka', `topic ${kafka.topic} (${kafka.partitions} partitions) on ${kafka.brokers.join(',')} · acks=all, idempotent${kafka.key === undefined ? '' : ` · key ${kafka.key}`}`],
          ...(end ? [['consumer group', `${kafka.group} after the last ack: lag ${end.lag ?? '?'} · consumers ${end.consumers ?? '?'}${end.error ? ` · reading failed: ${end.error}` : ''}`] as [string, string]] : []),
        ] as [string, string][])
      : ([
          ['requests', `offered ${s.counts.offered} (${s.offeredRate}/s) · completed ${s.counts.completed} (${s.achievedRate}/s) · dropped ${s.counts.dropped}`],
          ['status', `2xx ${s.counts.status['2xx']} · 3xx ${s.counts.status['3xx']} · 4xx ${s.counts.status['4xx']} · 5xx ${s.counts.status['5xx']}`],
        ] as [string, string][])),
    ['errors', `${ERROR_KINDS.map((k) => `${k} ${s.counts.errors[k]}`).join(' · ')} · error rate ${(s.errorRate * 100).toFixed(2)} %`],
    ['latency', `p50 ${s.latency.p50.toFixed(2)} ms · p90 ${s.latency.p90.toFixed(2)} · p99 ${s.latency.p99.toFixed(2)} · p99.9 ${s.latency.p999.toFixed(2)} · max ${s.latency.max.toFixed(2)} ms`],
    ...record.thresholds.map((t): [string, string] => [`threshold ${t.name}`, `${t.passed ? 'passed' : 'FAILED'}: ${t.actual} (limit ${t.limit})`]),
  ];
  const decisions = record.decisions ?? [];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>podscale ${decisions.length > 0 ? 'lab' : 'load'} report</title>
<style>${asset('uplot/dist/uPlot.min.css')}
body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px}table{border-collapse:collapse;margin-bottom:16px}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
.chart{margin:18px 0}.chart h2{font-size:15px;margin:0 0 4px}</style></head>
<body><h1>podscale ${decisions.length > 0 ? 'lab' : 'load'} report</h1>
<table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${k === 'targets' ? v : escapeHtml(v)}</td></tr>`).join('')}</table>
<div id="charts"></div>
${decisions.length > 0 ? `<h2>HPA decisions</h2><table><tr><th>t (s)</th><th>replicas</th><th>reason</th></tr>${decisions.map((d) => `<tr><td>${d.t.toFixed(0)}</td><td>${d.from} → ${d.to}</td><td>${escapeHtml(d.reason)}</td></tr>`).join('')}</table>` : ''}
<script>${asset('uplot/dist/uPlot.iife.min.js')}</script>
<script>
const times = ${scriptJson(record.timeline.map((p) => p.t))};
const charts = ${scriptJson(reportCharts(record))};
const colors = ['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
for (const chart of charts) {
  const box = document.createElement('div');
  box.className = 'chart';
  box.innerHTML = '<h2></h2>';
  box.querySelector('h2').textContent = chart.title + ' (' + chart.unit + ')';
  document.getElementById('charts').appendChild(box);
  new uPlot({
    width: 1000, height: 240,
    scales: { x: { time: false }, y: chart.log ? { distr: 3 } : {} },
    axes: [{ label: 'seconds' }, { label: chart.unit }],
    series: [{ label: 't (s)' }, ...chart.series.map((s, i) => ({ label: s.label, stroke: colors[i % colors.length], width: 2,
      paths: chart.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined }))],
  }, [times, ...chart.series.map((s) => s.values)], box);
}
</script></body></html>
`;
}

/** `podscale report`: the report of a run saved with --out, rendered again. */
export async function renderReportFile(runFile: string, htmlFile: string): Promise<void> {
  const record = JSON.parse(await readFile(runFile, 'utf8')) as RunRecord;
  await writeFile(htmlFile, renderReport(record));
}
