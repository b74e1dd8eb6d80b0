import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '@podscale/cli/load/record.ts';
import { metricCharts, renderReport } from '@podscale/cli/load/report.ts';
import { KUBERNETES_VERSION } from '@podscale/kube-local/binaries.ts';
import { supportedReleases } from '@podscale/kube-local/releases.ts';
import { CLI } from '../../../../test/helpers/child.ts';

const run = promisify(execFile);
const FAST = ['--sync-period', '2s', '--scrape-interval', '1s', '--rate-window', '4s', '--propagation-delay', '300ms', '--plain'];

describe('the HPA metric panel (current vs target) in the lab report', () => {
  let dir: string;
  let record: RunRecord;
  let html: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podscale-panel-'));
    const out = join(dir, 'run.json');
    const report = join(dir, 'report.html');
    // 3x the per-pod target on 2 pods: the QPS metric rises above its target and the lab scales.
    await run(process.execPath, [CLI, 'lab', ...FAST, '--stages', '1ms:600,12s:600', '--out', out, '--report', report], { env: { PATH: process.env.PATH, CI: 'true' }, maxBuffer: 16 * 1024 * 1024 });
    record = JSON.parse(await readFile(out, 'utf8')) as RunRecord;
    html = await readFile(report, 'utf8');
  }, 90_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('charts each HPA metric of the run: CPU in % of the request and QPS per pod, each against its target', () => {
    const charts = metricCharts(record);
    expect(charts.map((chart) => [chart.title, chart.unit])).toEqual([
      ['HPA metric cpu: current vs target', '% of request'],
      ['HPA metric http_requests_per_second: current vs target', 'per pod'],
    ]);
    const [cpu, qps] = charts;
    expect(new Set(cpu!.series[1]!.values.filter((v) => v !== null))).toEqual(new Set([60]));
    expect(new Set(qps!.series[1]!.values.filter((v) => v !== null))).toEqual(new Set([100]));
    // The QPS the HPA read went above its target, which is why the replicas moved.
    expect(Math.max(...qps!.series[0]!.values.map((v) => v ?? 0))).toBeGreaterThan(110);
    expect(record.decisions?.some((d) => d.to > d.from)).toBe(true);
    expect(cpu!.series[0]!.values.some((v) => v !== null && v >= 0)).toBe(true);
  });

  it('puts the panels in the self-contained HTML report', () => {
    expect(html).toContain('HPA metric http_requests_per_second: current vs target');
    expect(html).toContain('HPA metric cpu: current vs target');
    expect(renderReport(record)).toBe(html);
  });
});

describe('podscale lab --control-plane kubernetes without the control plane', () => {
  it('says what is missing and exits 1 (the default lab needs no Go)', async () => {
    const error = await run(process.execPath, [CLI, 'lab', '--control-plane', 'kubernetes', '--scenario', 'steady'], { env: { PATH: process.env.PATH, CI: 'true', PODSCALE_CACHE: join(tmpdir(), 'podscale-no-such-cache') } }).then(
      () => undefined,
      (failure: { code: number; stderr: string }) => failure,
    );
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain(`--control-plane kubernetes needs the Kubernetes ${KUBERNETES_VERSION} control plane built (missing `);
    expect(error?.stderr).toMatch(/\(missing .*kube-apiserver.*\): run bash scripts\/setup\.sh --with-cluster \(needs Go\), or use --control-plane lab/);
  });

  it('--kubernetes-version: refuses a release outside the supported list, saying which are', async () => {
    const error = await run(process.execPath, [CLI, 'lab', '--control-plane', 'kubernetes', '--kubernetes-version', '1.34', '--scenario', 'steady'], { env: { PATH: process.env.PATH, CI: 'true' } }).then(
      () => undefined,
      (failure: { code: number; stderr: string }) => failure,
    );
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain(`Kubernetes 1.34 is not a supported release: use one of ${supportedReleases().join(', ')}`);
  });

  it('--scenario backlog: runs only on the real control plane, and says what is missing there', async () => {
    const fail = (args: string[]) =>
      run(process.execPath, [CLI, 'lab', ...args], { env: { PATH: process.env.PATH, CI: 'true', PODSCALE_CACHE: join(tmpdir(), 'podscale-no-such-cache') } }).then(
        () => undefined,
        (failure: { code: number; stderr: string }) => failure,
      );
    const local = await fail(['--scenario', 'backlog']);
    expect(local?.code).toBe(1);
    expect(local?.stderr).toMatch(/--scenario backlog runs on --control-plane kubernetes/);
    const missing = await fail(['--control-plane', 'kubernetes', '--scenario', 'backlog']);
    expect(missing?.code).toBe(1);
    expect(missing?.stderr).toContain(`the backlog lab needs the Kubernetes ${KUBERNETES_VERSION} control plane built (missing `);
    expect(missing?.stderr).toMatch(/\(missing .*kube-apiserver.*\)/);
  });
});
