/**
 * The HPA port (src/autoscaler) against the real kube-controller-manager v1.34.4: at every HPA sync
 * the cluster shows (a status write), the port is given what the controller saw — the pods, their
 * readiness and start times, and what custom.metrics.k8s.io and metrics.k8s.io returned, read right
 * after the status change — and its desiredReplicas must be the controller's.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordRecommendationWithBehaviors, scaleDownRules, scaleUpRules, storeScaleEvent } from '../../src/autoscaler/behavior.ts';
import { decide } from '../../src/autoscaler/decide.ts';
import { toMilli } from '../../src/autoscaler/quantity.ts';
import type { Decision, History, PodInfo } from '../../src/autoscaler/types.ts';
import { Cluster } from '../../src/cluster/cluster.ts';
import { HpaObserver, type ObservedSync } from '../../src/cluster/hpa-observer.ts';
import type { RunRecord } from '../../src/load/record.ts';
import { failures } from '../../src/load/stats.ts';
import { ROOT } from '../helpers/child.ts';
import { clusterSkipReason } from '../helpers/cluster.ts';

const run = promisify(execFile);

// The only controller override; 15 s windows and policy periods then never fall on a sync (15 / 4 = 3.75).
const SYNC_PERIOD_S = 4;
// kube-controller-manager defaults (not overridden), which the port is given as they are.
const TOLERANCE = 0.1;
const CPU_INITIALIZATION_PERIOD_S = 300;
const INITIAL_READINESS_DELAY_S = 30;
const MIN_AGREEMENT = 0.9;

/** The scripted load, through the Service; each phase's syncs are counted apart. */
const PHASES = [
  { name: 'steady load', seconds: 50, rate: 120 },
  { name: 'step up (new pods not ready, missing metrics)', seconds: 60, rate: 600 },
  { name: 'step down', seconds: 60, rate: 150 },
  { name: 'rollout with surge', seconds: 60, rate: 150, rollout: true },
] as const;

const skip =
  (await clusterSkipReason(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'prometheus', 'prometheus-adapter', 'metrics-server'])) ??
  (await Cluster.unavailable().then((reason) => (reason ? (process.stderr.write(`skipped: ${reason}\n`), reason) : undefined)));

interface Compared {
  sync: ObservedSync;
  phase: string;
  port: Decision;
  real: number;
  agree: boolean;
  /** Where the port's metric averages differ from the ones the controller wrote into its status. */
  skew: string[];
  features: string[];
}

/** The controller's metric averages (status.currentMetrics), in the units the port reports them. */
function statusCurrents(sync: ObservedSync): Map<string, number> {
  const currents = new Map<string, number>();
  for (const metric of sync.status.currentMetrics ?? []) {
    if (metric.type === 'Resource' && metric.resource?.current.averageUtilization !== undefined) currents.set(metric.resource.name, metric.resource.current.averageUtilization * 1000);
    if (metric.type === 'Pods' && metric.pods?.current.averageValue !== undefined) currents.set(metric.pods.metric.name, toMilli(metric.pods.current.averageValue));
  }
  return currents;
}

/**
 * The pods as the controller listed them at this sync. A sync that rescales writes its status
 * after the scale, so the pods read after the status already include what the rescale did: pods
 * created for a scale-up (the controller did not list them) and pods marked for deletion by a
 * scale-down (the controller still counted them). Both are recognisable by their timestamps
 * (creation, deletion request) at or after this sync's lastScaleTime; they are put back.
 */
function podsAtSync(sync: ObservedSync): { pods: PodInfo[]; reconstructed: number } {
  const current = sync.status.currentReplicas ?? 0;
  const desired = sync.status.desiredReplicas ?? current;
  const scaledAt = sync.status.lastScaleTime ? Date.parse(sync.status.lastScaleTime) / 1000 : undefined;
  // lastScaleTime is this sync's only when it rescaled (whole seconds, so within the second before the status).
  if (desired === current || scaledAt === undefined || sync.at - scaledAt > 2) return { pods: sync.pods, reconstructed: 0 };
  let reconstructed = 0;
  const pods = sync.pods.flatMap((pod) => {
    const times = sync.podTimes[pod.name];
    if (desired > current && times && times.created >= scaledAt) return (reconstructed++, []);
    if (desired < current && pod.deleting && times?.deletionRequested !== undefined && times.deletionRequested >= scaledAt) return (reconstructed++, [{ ...pod, deleting: false }]);
    return [pod];
  });
  return { pods, reconstructed };
}

function features(sync: ObservedSync, pods: PodInfo[]): string[] {
  const names = new Set(Object.keys(sync.metrics.pods?.http_requests_per_second ?? {}));
  const cpu = new Set(Object.keys(sync.metrics.resource?.cpu ?? {}));
  const live = pods.filter((pod) => !pod.deleting && pod.phase !== 'Failed' && pod.phase !== 'Succeeded');
  const out: string[] = [];
  if (live.some((pod) => pod.ready !== true)) out.push('unready pods');
  if (live.some((pod) => !names.has(pod.name))) out.push('pods missing the custom metric');
  if (live.some((pod) => !cpu.has(pod.name))) out.push('pods missing CPU');
  if (pods.some((pod) => pod.deleting)) out.push('deleting pods');
  if (live.length > (sync.status.currentReplicas ?? 0)) out.push('surge (more pods than replicas)');
  return out;
}

describe.skipIf(skip)('the HPA port against the real controller, sync by sync', () => {
  let cluster: Cluster;
  let dir: string;
  let observer: HpaObserver;
  let serviceUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podscale-differential-'));
    process.stdout.write(`override: kube-controller-manager --horizontal-pod-autoscaler-sync-period=${SYNC_PERIOD_S}s (upstream 15s); tolerance, initial readiness delay, CPU initialization period at their defaults (${TOLERANCE}, ${INITIAL_READINESS_DELAY_S}s, ${CPU_INITIALIZATION_PERIOD_S}s)\n`);
    process.stdout.write('override (test/fixtures/cluster): HPA scaleDown stabilization 15s, 100 %/15s (shipped: 300s, 50 %/60s); CPU target 1000 % (shipped: 60 %)\n');
    cluster = await Cluster.start({ dir: join(dir, 'cluster'), repoRoot: ROOT, hpa: { syncPeriod: `${SYNC_PERIOD_S}s` } });
    await cluster.apply(join(ROOT, 'test/fixtures/cluster'));
    for (const [namespace, deployment] of [['podscale', 'podscale'], ['podscale', 'prometheus'], ['podscale', 'prometheus-adapter'], ['kube-system', 'metrics-server']] as const) {
      await cluster.kubectl(['rollout', 'status', '-n', namespace, `deployment/${deployment}`, '--timeout=120s']);
    }
    await cluster.kubectl(['wait', '--for=condition=Available', '--timeout=120s', 'apiservice/v1beta1.custom.metrics.k8s.io', 'apiservice/v1beta1.metrics.k8s.io']);
    serviceUrl = (JSON.parse(await readFile(cluster.servicesFile, 'utf8')) as Record<string, string>)['podscale/podscale'] ?? '';
    observer = await HpaObserver.start(cluster, { namespace: 'podscale', name: 'podscale', selector: 'app.kubernetes.io/name=podscale', podsMetrics: ['http_requests_per_second'] });
  }, 300_000);

  afterAll(async () => {
    await observer?.stop();
    if (cluster) {
      await cluster.stop();
      expect(await cluster.network.leftovers()).toEqual([]);
    }
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it(`agrees with the controller's desiredReplicas at ≥ ${MIN_AGREEMENT * 100} % of syncs over steady, step-up, step-down and rollout load`, async () => {
    const stages = PHASES.map((phase) => `1ms:${phase.rate},${phase.seconds}s:${phase.rate}`).join(',');
    const out = join(dir, 'load.json');
    const loadStart = Date.now() / 1000;
    const driving = run(process.execPath, [join(ROOT, 'dist/cli.js'), 'load', `${serviceUrl}/`, '--stages', stages, '--max-requests-per-connection', '20', '--plain', '--out', out], { maxBuffer: 64 * 1024 * 1024 });
    const rolloutAt = PHASES.slice(0, 3).reduce((sum, phase) => sum + phase.seconds, 0);
    await new Promise((resolve) => setTimeout(resolve, rolloutAt * 1000 + 2000));
    await cluster.kubectl(['rollout', 'restart', 'deployment/podscale', '-n', 'podscale']);
    await driving;
    // The last syncs of the run, and a few beyond it, are compared too.
    await new Promise((resolve) => setTimeout(resolve, 2 * SYNC_PERIOD_S * 1000));
    const record = JSON.parse(await readFile(out, 'utf8')) as RunRecord;
    process.stdout.write(`load: ${record.summary.counts.offered} requests, ${failures(record.summary.counts)} failed\n`);

    const phaseAt = (at: number): string => {
      let end = loadStart;
      for (const phase of PHASES) {
        end += phase.seconds;
        if (at < end) return at < loadStart ? 'before load' : phase.name;
      }
      return 'after load';
    };

    // What the controller remembers between syncs, kept the way it keeps it: the port's own
    // recommendations (the controller's are not visible) and the rescales the controller made.
    const history: Required<History> = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
    const compared: Compared[] = [];
    for (const sync of observer.syncs) {
      const spec = sync.spec;
      const current = sync.status.currentReplicas ?? 0;
      const real = sync.status.desiredReplicas ?? 0;
      const { pods, reconstructed } = podsAtSync(sync);
      const port = decide({
        spec,
        currentReplicas: current,
        now: sync.at,
        pods,
        metrics: sync.metrics,
        history,
        tolerance: TOLERANCE,
        cpuInitializationPeriod: CPU_INITIALIZATION_PERIOD_S,
        delayOfInitialReadinessStatus: INITIAL_READINESS_DELAY_S,
      });
      const up = scaleUpRules(spec.behavior?.scaleUp);
      const down = scaleDownRules(spec.behavior?.scaleDown, 300);
      if (port.recommendation !== undefined) history.recommendations = recordRecommendationWithBehaviors(history.recommendations, { time: sync.at, replicas: port.recommendation }, up.stabilizationWindowSeconds, down.stabilizationWindowSeconds);
      if (real !== current) storeScaleEvent(history, sync.at, { scaleUp: up, scaleDown: down }, current, real);
      // A sync whose metrics failed leaves status.desiredReplicas as it was and does not scale; the
      // port then says "no scaling" (desired = current). Both mean: ScalingActive False, no rescale.
      const realActive = sync.status.conditions?.find((c) => c.type === 'ScalingActive')?.status !== 'False';
      const portActive = port.conditions?.find((c) => c.type === 'ScalingActive')?.status !== 'False';
      const agree = realActive === portActive && (realActive ? port.desiredReplicas === real : true);
      const currents = statusCurrents(sync);
      const skew = port.metrics
        .filter((metric) => metric.current !== null && currents.has(metric.name))
        .filter((metric) => (metric.type === 'Resource' ? Number(metric.current) * 1000 : toMilli(metric.current!)) !== currents.get(metric.name))
        .map((metric) => `${metric.name}: port read ${metric.current}, controller ${metric.type === 'Resource' ? currents.get(metric.name)! / 1000 : `${currents.get(metric.name)}m`}`);
      compared.push({ sync, phase: phaseAt(sync.at), port, real, agree, skew, features: [...features(sync, pods), ...(reconstructed > 0 ? ["pods of the sync's own rescale put back"] : [])] });
    }

    const report: string[] = [];
    const byPhase = new Map<string, Compared[]>();
    for (const entry of compared) byPhase.set(entry.phase, [...(byPhase.get(entry.phase) ?? []), entry]);
    for (const [phase, entries] of byPhase) {
      const featureCounts = new Map<string, number>();
      for (const entry of entries) for (const feature of entry.features) featureCounts.set(feature, (featureCounts.get(feature) ?? 0) + 1);
      const replicas = [...new Set(entries.map((e) => `${e.sync.status.currentReplicas}→${e.real}`))].join(' ');
      report.push(`${phase}: ${entries.length} syncs compared, ${entries.filter((e) => e.agree).length} agree (replicas ${replicas}; ${[...featureCounts].map(([f, n]) => `${f} at ${n}`).join(', ') || 'all pods ready with metrics'})`);
    }
    const agreed = compared.filter((entry) => entry.agree).length;
    report.push(`total: ${compared.length} syncs compared, ${agreed} agree (${((agreed / compared.length) * 100).toFixed(1)} %)`);
    for (const entry of compared.filter((e) => !e.agree)) {
      const conditions = (entry.sync.status.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`).join(' ');
      report.push(
        `  disagreement at +${(entry.sync.at - loadStart).toFixed(1)} s (${entry.phase}): controller ${entry.sync.status.currentReplicas}→${entry.real} [${conditions}], port ${entry.port.desiredReplicas} (${entry.port.reason}); ` +
          `${entry.skew.length > 0 ? `explained by read skew: ${entry.skew.join(', ')}` : 'same metric averages as the controller'}; read ${((entry.sync.readAt - entry.sync.at) * 1000).toFixed(0)} ms after the status; features: ${entry.features.join(', ') || 'none'}`,
      );
    }
    process.stdout.write(`${report.join('\n')}\n`);

    expect(failures(record.summary.counts)).toBe(0);
    // Every scripted phase had syncs to compare, and the real HPA moved (up, then down).
    for (const phase of PHASES) expect(byPhase.get(phase.name)?.length ?? 0, phase.name).toBeGreaterThanOrEqual(5);
    expect(compared.some((e) => e.real > (e.sync.status.currentReplicas ?? 0))).toBe(true);
    expect(compared.some((e) => e.real < (e.sync.status.currentReplicas ?? 0))).toBe(true);
    expect(agreed / compared.length).toBeGreaterThanOrEqual(MIN_AGREEMENT);
    // A disagreement the port saw the same averages for is a porting bug, not skew.
    expect(compared.filter((e) => !e.agree && e.skew.length === 0).map((e) => `${e.phase} +${(e.sync.at - loadStart).toFixed(1)} s: controller ${e.real}, port ${e.port.desiredReplicas} (${e.port.reason})`)).toEqual([]);
  }, 600_000);
});
