import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '@podscale/kube-local/cluster.ts';
import { supportedReleases } from '@podscale/kube-local/releases.ts';
import type { RunRecord } from '@podscale/cli/load/record.ts';
import { metricCharts } from '@podscale/cli/load/report.ts';
import { failures } from '@podscale/cli/load/stats.ts';
import { CLI } from '../helpers/child.ts';
import { clusterSkipReason } from '../helpers/cluster.ts';

const run = promisify(execFile);

// The oldest supported release: the newest scales in every other cluster test, so this one shows the
// HPA scaling on the other end of the supported range.
const [OLDEST] = supportedReleases();
const skip =
  (await clusterSkipReason(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'prometheus', 'prometheus-adapter', 'metrics-server'], OLDEST)) ??
  (await Cluster.unavailable().then((reason) => (reason ? (process.stderr.write(`skipped: ${reason}\n`), reason) : undefined)));

describe.skipIf(skip)(`podscale lab --control-plane kubernetes --kubernetes-version ${OLDEST}: a steady load scaled by the real HPA`, () => {
  let dir: string;
  let record: RunRecord;
  let html: string;
  let output: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podscale-lab-k8s-test-'));
    const out = join(dir, 'run.json');
    const report = join(dir, 'report.html');
    // QPS drives it: the CPU target is moved out of the way (a busy machine's CPU per request
    // would otherwise scale first and hold the per-pod rate under its target). The steady
    // scenario (3x the per-pod target), shortened to what the shipped 1m rate window
    // needs to show the load (two 15 s scrapes) and a 5 s sync period to act on it.
    const result = await run(process.execPath, [CLI, 'lab', '--control-plane', 'kubernetes', '--kubernetes-version', OLDEST!, '--stages', '1ms:300,65s:300', '--sync-period', '5s', '--cpu-target', '1000', '--plain', '--out', out, '--report', report], {
      env: { ...process.env, CI: 'true' },
      maxBuffer: 64 * 1024 * 1024,
    });
    output = result.stdout;
    process.stdout.write(output.split('\n').filter((line) => line.startsWith('lab:')).join('\n') + '\n');
    record = JSON.parse(await readFile(out, 'utf8')) as RunRecord;
    html = await readFile(report, 'utf8');
  }, 400_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`runs the ${OLDEST} control plane`, () => {
    expect(output).toContain(`starting a Kubernetes ${OLDEST} control plane on this machine`);
  });

  it('prints its overrides and loses no request', () => {
    expect(output).toMatch(/lab: override kube-controller-manager --horizontal-pod-autoscaler-sync-period=5s \(upstream 15s\)/);
    expect(failures(record.summary.counts)).toBe(0);
  });

  it('records the real HPA decisions: rescales with their SuccessfulRescale reason, the rest as kubectl describe shows the conditions', () => {
    const decisions = record.decisions ?? [];
    process.stdout.write(`${decisions.map((d) => `  ${d.t.toFixed(0)} s: ${d.from} → ${d.to}: ${d.reason}`).join('\n')}\n`);
    const up = decisions.find((d) => d.to > d.from);
    // Every rescale is the HPA's own (with its event), never the status left over from a sync whose metrics failed.
    for (const d of decisions.filter((d) => d.to !== d.from)) expect(d.reason).toMatch(new RegExp(`^New size: ${d.to}; reason: `));
    expect(up?.reason).toMatch(/^New size: \d+; reason: pods metric http_requests_per_second above target$/);
    expect(decisions.some((d) => /^AbleToScale True \w+: /.test(d.reason))).toBe(true);
    // Replicas the watcher saw follow the HPA: more than minReplicas by the end.
    expect(Math.max(...record.timeline.map((p) => p.replicas?.desired ?? 0))).toBe(up!.to);
  });

  it('has the metric panel data: the HPA status values against their targets, and the panel in the report', () => {
    const charts = metricCharts(record);
    const qps = charts.find((chart) => chart.title.includes('http_requests_per_second'))!;
    const cpu = charts.find((chart) => chart.title.includes('cpu'))!;
    expect(qps.unit).toBe('per pod');
    expect(cpu.unit).toBe('% of request');
    expect(new Set(qps.series[1]!.values.filter((v) => v !== null))).toEqual(new Set([100]));
    expect(new Set(cpu.series[1]!.values.filter((v) => v !== null))).toEqual(new Set([1000]));
    expect(Math.max(...qps.series[0]!.values.map((v) => v ?? 0))).toBeGreaterThan(110);
    expect(html).toContain('HPA metric http_requests_per_second: current vs target');
  });
});
