/**
 * The HPA port (packages/hpa/src) judged by the real kube-controller-manager: at every HPA sync the
 * cluster showed (a status write), the port is given what the controller saw — the pods, their
 * readiness and start times, and what custom.metrics.k8s.io and metrics.k8s.io returned, read
 * right after the status change — and its desiredReplicas must be the controller's.
 */
import { recordRecommendationWithBehaviors, scaleDownRules, scaleUpRules, storeScaleEvent } from '@podscale/hpa/behavior.ts';
import { decide } from '@podscale/hpa/decide.ts';
import type { KubernetesVersion } from '@podscale/hpa/gates.ts';
import { toMilli } from '@podscale/hpa/quantity.ts';
import type { Decision, History, PodInfo } from '@podscale/hpa/types.ts';
import type { ObservedSync } from '@podscale/kube-local/hpa-observer.ts';

/** kube-controller-manager defaults (the tests do not override them), which the port is given as they are. */
export const CONTROLLER_DEFAULTS = { tolerance: 0.1, cpuInitializationPeriodS: 300, initialReadinessDelayS: 30 } as const;

/** How late the watch may deliver a status after the controller wrote it (each sync's `at` is the delivery). */
const WATCH_DELAY_S = 2;

/** The minor of the kube-controller-manager the cluster tests run (scripts/build-cluster.sh). */
export const CLUSTER_KUBERNETES_VERSION: KubernetesVersion = '1.37';

export interface Compared {
  sync: ObservedSync;
  phase: string;
  port: Decision;
  real: number;
  agree: boolean;
  /** Where the port's metric averages differ from the ones the controller wrote into its status. */
  skew: string[];
  features: string[];
  /** The port's recommendations of the last scaleDown window and the watch delay, newest last: `replicas@-age`. */
  recent: string;
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


export interface Agreement {
  compared: Compared[];
  byPhase: Map<string, Compared[]>;
  agreed: number;
  /** One line per phase, the total, and one line per disagreement. */
  report: string[];
}

/** Whether a status says ScaledToZero=True: what the controller read before its next sync. */
const scaledToZero = (status: ObservedSync['status'] | undefined) => status?.conditions?.some((c) => c.type === 'ScaledToZero' && c.status === 'True') === true;

/** Compares every observed sync; `phaseAt` names the part of the test a sync fell in. */
export function compareWithController(syncs: ObservedSync[], phaseAt: (at: number) => string, since: number, kubernetesVersion: KubernetesVersion = CLUSTER_KUBERNETES_VERSION): Agreement {
    // What the controller remembers between syncs, kept the way it keeps it: the port's own
    // recommendations (the controller's are not visible) and the rescales the controller made.
    const history: Required<History> = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
    // Every recommendation the port made, unpruned: to tell a window edge apart from a porting bug.
    const recommended: { time: number; replicas: number }[] = [];
    const compared: Compared[] = [];
    for (const [index, sync] of syncs.entries()) {
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
        tolerance: CONTROLLER_DEFAULTS.tolerance,
        cpuInitializationPeriod: CONTROLLER_DEFAULTS.cpuInitializationPeriodS,
        delayOfInitialReadinessStatus: CONTROLLER_DEFAULTS.initialReadinessDelayS,
        kubernetesVersion,
        // The status this sync started from is the one the previous sync wrote.
        scaledToZero: scaledToZero(syncs[index - 1]?.status),
      });
      const up = scaleUpRules(spec.behavior?.scaleUp);
      const down = scaleDownRules(spec.behavior?.scaleDown, 300);
      if (port.recommendation !== undefined) recommended.push({ time: sync.at, replicas: port.recommendation });
      if (port.recommendation !== undefined) history.recommendations = recordRecommendationWithBehaviors(history.recommendations, { time: sync.at, replicas: port.recommendation }, up.stabilizationWindowSeconds, down.stabilizationWindowSeconds);
      if (real !== current) storeScaleEvent(history, sync.at, { scaleUp: up, scaleDown: down }, current, real);
      // A sync whose metrics failed leaves status.desiredReplicas as it was and does not scale; the
      // port then says "no scaling" (desired = current). Both mean: ScalingActive False, no rescale.
      const realActive = sync.status.conditions?.find((c) => c.type === 'ScalingActive')?.status !== 'False';
      const portActive = port.conditions?.find((c) => c.type === 'ScalingActive')?.status !== 'False';
      const agree = realActive === portActive && (realActive ? port.desiredReplicas === real : true);
      const currents = statusCurrents(sync);
      const controllerRead = (name: string, type: string) => (type === 'Resource' ? `${currents.get(name)! / 1000}` : `${currents.get(name)}m`);
      const skew = [
        ...port.metrics
          .filter((metric) => metric.current !== null && currents.has(metric.name))
          .filter((metric) => (metric.type === 'Resource' ? Number(metric.current) * 1000 : toMilli(metric.current!)) !== currents.get(metric.name))
          .map((metric) => `${metric.name}: port read ${metric.current}, controller ${controllerRead(metric.name, metric.type)}`),
        // Read after the status while pods come and go (a rollout), the port can find no metrics
        // for pods the controller had metrics for: skew in what was read, not in the arithmetic.
        ...port.metrics
          .filter((metric) => metric.current === null && currents.has(metric.name))
          .map((metric) => `${metric.name}: port read none, controller ${controllerRead(metric.name, metric.type)}`),
        // The window is timed by the controller's clock at each sync; the port has only the moments
        // the watch delivered each status. A recommendation that just left the port's window may
        // still be in the controller's (the watch delivers within a second or two of the sync).
        ...(port.desiredReplicas < real && real <= current
          ? recommended
              .filter((rec) => rec.replicas >= real && sync.at - rec.time >= down.stabilizationWindowSeconds && sync.at - rec.time <= down.stabilizationWindowSeconds + WATCH_DELAY_S)
              .slice(-1)
              .map((rec) => `window edge: the port's recommendation of ${rec.replicas} is ${(sync.at - rec.time).toFixed(1)} s old by the watch's clock, the scaleDown window ${down.stabilizationWindowSeconds} s`)
          : []),
        // The history is the port's own recommendations; the controller's are not visible. Where both
        // chose N at an earlier sync in the window, the port only because its window held N, the
        // controller may have recommended N there itself (from the pods it listed, which the port
        // read a moment later): the two windows then hold different values from that sync on.
        ...(port.desiredReplicas < real && real <= current
          ? compared
              .filter((e) => e.agree && e.real >= real && e.port.recommendation !== undefined && e.port.recommendation < e.real && sync.at - e.sync.at <= down.stabilizationWindowSeconds + WATCH_DELAY_S)
              .slice(-1)
              .map((e) => `hidden history: ${(sync.at - e.sync.at).toFixed(1)} s earlier both chose ${e.real}, the port held there by its window (its own recommendation ${e.port.recommendation})`)
          : []),
      ];
      const recent = recommended
        .filter((rec) => sync.at - rec.time <= down.stabilizationWindowSeconds + WATCH_DELAY_S)
        .map((rec) => `${rec.replicas}@-${(sync.at - rec.time).toFixed(1)}s`)
        .join(' ');
      compared.push({ sync, phase: phaseAt(sync.at), port, real, agree, skew, recent, features: [...features(sync, pods), ...(reconstructed > 0 ? ["pods of the sync's own rescale put back"] : [])] });
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
        `  disagreement at +${(entry.sync.at - since).toFixed(1)} s (${entry.phase}): controller ${entry.sync.status.currentReplicas}→${entry.real} [${conditions}], port ${entry.port.desiredReplicas} (${entry.port.reason}); ` +
          `${entry.skew.length > 0 ? `explained by read skew: ${entry.skew.join(', ')}` : 'same metric averages as the controller'}; read ${((entry.sync.readAt - entry.sync.at) * 1000).toFixed(0)} ms after the status; features: ${entry.features.join(', ') || 'none'}; the port's recent recommendations: ${entry.recent}`,
      );
    }
  return { compared, byPhase, agreed, report };
}
