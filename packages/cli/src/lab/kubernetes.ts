import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBERNETES_VERSION, missingBinaries, type ClusterBinary } from '@podscale/kube-local/binaries.ts';
import { Cluster } from '@podscale/kube-local/cluster.ts';
import { HpaObserver, type ObservedSync } from '@podscale/kube-local/hpa-observer.ts';
import { SHIPPED_KIT_DIR } from '../kit/manifests.ts';
import type { HpaSpec } from '@podscale/hpa/types.ts';
import type { ScalingDecision } from '../load/record.ts';
import { watchDeployment } from '../load/watch/kubernetes.ts';
import type { ReplicaWatcher } from '../load/watch/replicas.ts';
import type { LabKit } from './kit.ts';
import { applyOverrides, type HpaOverrides } from './lab.ts';
import { until } from '@podscale/process/net.ts';
import { REPO_ROOT } from '../repo-root.ts';

const NEEDS: ClusterBinary[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'prometheus', 'prometheus-adapter', 'metrics-server'];

export interface KubernetesLabOptions {
  kit: LabKit;
  hpa?: HpaOverrides;
  syncPeriodS?: number;
  /** The control plane's release (tools/cluster/kubernetes-minors); default the pinned one. */
  kubernetesVersion?: string;
  log?: (line: string) => void;
}

/** Why `--control-plane kubernetes` cannot run here (binaries not built, not root), or undefined. */
export async function kubernetesUnavailable(version: string = KUBERNETES_VERSION): Promise<string | undefined> {
  const missing = await missingBinaries(NEEDS, version);
  if (missing.length > 0) return `--control-plane kubernetes needs the Kubernetes ${version} control plane built (missing ${missing.join(', ')}): run bash scripts/setup.sh --with-cluster (needs Go), or use --control-plane lab`;
  const unavailable = await Cluster.unavailable();
  return unavailable ? `--control-plane kubernetes cannot run here: ${unavailable}` : undefined;
}

/** A condition line as `kubectl describe hpa` prints it: type, status, reason, message. */
function conditionLine(condition: NonNullable<ObservedSync['status']['conditions']>[number]): string {
  return `${condition.type} ${condition.status} ${condition.reason ?? ''}: ${condition.message ?? ''}`;
}

/**
 * The real HPA's decisions as the run record holds them: each sync that rescaled (reason: its
 * SuccessfulRescale event, "New size: N; reason: ..."), and each whose conditions changed (the
 * lines `kubectl describe hpa` shows under Conditions). t is seconds since `since` (epoch s).
 */
export function hpaDecisions(observer: Pick<HpaObserver, 'syncs' | 'events'>, since: number): ScalingDecision[] {
  const decisions: ScalingDecision[] = [];
  const used = new Set<number>();
  let previous = '';
  for (const sync of observer.syncs) {
    const from = sync.status.currentReplicas ?? 0;
    // A sync whose metrics failed (ScalingActive False) does not scale and leaves status.desiredReplicas as it was.
    const active = sync.status.conditions?.find((c) => c.type === 'ScalingActive')?.status !== 'False';
    const to = active ? (sync.status.desiredReplicas ?? from) : from;
    let reason: string;
    if (to !== from) {
      // The event is emitted just before the status write; take the nearest unused one with this size.
      const candidates = observer.events
        .map((event, i) => ({ event, i }))
        .filter(({ event, i }) => !used.has(i) && event.reason === 'SuccessfulRescale' && event.message.startsWith(`New size: ${to};`) && Math.abs(event.at - sync.at) < 10);
      candidates.sort((a, b) => Math.abs(a.event.at - sync.at) - Math.abs(b.event.at - sync.at));
      const match = candidates[0];
      if (match) used.add(match.i);
      reason = match?.event.message ?? `New size: ${to}`;
    } else {
      const conditions = sync.status.conditions ?? [];
      const interesting = conditions.filter((c) => c.type === 'AbleToScale' || (c.type === 'ScalingActive' && c.status === 'False') || (c.type === 'ScalingLimited' && c.status === 'True'));
      reason = interesting.map(conditionLine).join('; ');
    }
    if (to !== from || reason !== previous) decisions.push({ t: Math.round((sync.at - since) * 10) / 10, from, to, reason });
    previous = to !== from ? '' : reason;
  }
  return decisions;
}

/**
 * What drove the replicas, from the real HPA's own words: each rescale with its event message
 * ("New size: 5; reason: pods metric http_requests_per_second above target"), as the local lab
 * tells its port's decisions. The metric named in the reason is the one that won the sync.
 */
export function hpaStory(decisions: ScalingDecision[]): string[] {
  const changes = decisions.filter((d) => d.to !== d.from);
  if (changes.length === 0) return [`replicas stayed at ${decisions.at(-1)?.from ?? '?'}${decisions.length > 0 ? `; last status: ${decisions.at(-1)!.reason}` : ''}`];
  const lines = ['what drove the replicas (from the HPA\'s SuccessfulRescale events):'];
  const upsBy = new Map<string, number>();
  for (const change of changes) {
    lines.push(`  ${change.t.toFixed(0).padStart(4)}s  ${change.from} → ${change.to}  ${change.reason}`);
    const metric = /reason: (.+?) above target/.exec(change.reason)?.[1];
    if (change.to > change.from && metric) upsBy.set(metric, (upsBy.get(metric) ?? 0) + 1);
  }
  const ups = [...upsBy].map(([name, count]) => `${name} ×${count}`);
  const downs = changes.filter((d) => d.to < d.from).length;
  lines.push(`scale-ups driven by ${ups.length > 0 ? ups.join(', ') : 'no metric named'}; ${downs} scale-down(s)`);
  return lines;
}

/**
 * The lab on the real control plane: a cluster of the pinned release on this machine (Cluster.start) with the
 * shipped kit and metrics-server applied, scaled by the real kube-controller-manager HPA.
 */
export class KubernetesLab {
  readonly cluster: Cluster;
  readonly observer: HpaObserver;
  readonly watcher: ReplicaWatcher;
  readonly serviceUrl: string;
  readonly overrides: string[];
  /** The HPA spec with the overrides applied, as patched into the cluster. */
  readonly spec: HpaSpec;
  readonly namespace: string;
  readonly deploymentName: string;
  readonly #dir: string;
  #stopped = false;

  private constructor(fields: { cluster: Cluster; observer: HpaObserver; watcher: ReplicaWatcher; serviceUrl: string; overrides: string[]; spec: HpaSpec; namespace: string; deploymentName: string; dir: string }) {
    this.cluster = fields.cluster;
    this.observer = fields.observer;
    this.watcher = fields.watcher;
    this.serviceUrl = fields.serviceUrl;
    this.overrides = fields.overrides;
    this.spec = fields.spec;
    this.namespace = fields.namespace;
    this.deploymentName = fields.deploymentName;
    this.#dir = fields.dir;
  }

  static async start(options: KubernetesLabOptions): Promise<KubernetesLab> {
    const version = options.kubernetesVersion ?? KUBERNETES_VERSION;
    const unavailable = await kubernetesUnavailable(version);
    if (unavailable) throw new Error(unavailable);
    const log = options.log ?? (() => undefined);
    log(`starting a Kubernetes ${version} control plane on this machine (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, node agent, Service proxy)`);
    const { kit } = options;
    const overrides: string[] = [];
    const syncPeriodS = options.syncPeriodS ?? 15;
    if (syncPeriodS !== 15) overrides.push(`kube-controller-manager --horizontal-pod-autoscaler-sync-period=${syncPeriodS}s (upstream 15s)`);
    const { spec, described } = applyOverrides(kit.hpa, options.hpa ?? {});
    overrides.push(...described.map((line) => `HPA ${line} (kubectl patch after apply)`));
    const dir = await mkdtemp(join(tmpdir(), 'podscale-lab-k8s-'));
    let cluster: Cluster | undefined;
    try {
      cluster = await Cluster.start({ dir: join(dir, 'cluster'), repoRoot: REPO_ROOT, hpa: { syncPeriod: `${syncPeriodS}s` }, kubernetesVersion: version, log });
      for (const kustomization of [SHIPPED_KIT_DIR, join(SHIPPED_KIT_DIR, 'metrics-server')]) {
        log(`kubectl apply --server-side -k ${kustomization}`);
        await cluster.apply(kustomization);
      }
      const { namespace, deploymentName } = kit;
      const hpaName = await cluster.kubectl(['get', 'hpa', '-n', namespace, '-o', `jsonpath={.items[?(@.spec.scaleTargetRef.name=="${deploymentName}")].metadata.name}`]).then((r) => r.stdout.trim());
      if (described.length > 0) {
        await cluster.kubectl(['patch', 'hpa', hpaName, '-n', namespace, '--type=merge', '-p', JSON.stringify({ spec: { minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas, metrics: spec.metrics, behavior: spec.behavior } })]);
      }
      for (const [ns, deployment] of [[namespace, deploymentName], [namespace, 'prometheus'], [namespace, 'prometheus-adapter'], ['kube-system', 'metrics-server']] as const) {
        await cluster.kubectl(['rollout', 'status', '-n', ns, `deployment/${deployment}`, '--timeout=180s']);
      }
      await cluster.kubectl(['wait', '--for=condition=Available', '--timeout=120s', 'apiservice/v1beta1.custom.metrics.k8s.io', 'apiservice/v1beta1.metrics.k8s.io']);
      log('kit rolled out; APIServices Available');
      const serviceUrl = (JSON.parse(await readFile(cluster.servicesFile, 'utf8')) as Record<string, string>)[`${namespace}/${deploymentName}`];
      if (!serviceUrl) throw new Error(`the Service proxy has no address for ${namespace}/${deploymentName}`);
      const selector = await cluster.kubectl(['get', 'deployment', deploymentName, '-n', namespace, '-o', 'jsonpath={.spec.selector.matchLabels}']).then((r) =>
        Object.entries(JSON.parse(r.stdout) as Record<string, string>)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      );
      const podsMetrics = (spec.metrics ?? []).flatMap((metric) => (metric.type === 'Pods' ? [metric.pods.metric.name] : []));
      const observer = await HpaObserver.start(cluster, { namespace, name: hpaName, selector, podsMetrics });
      // The load tool's own Deployment + HPA watcher, as `podscale load --watch` uses it.
      process.env.KUBECONFIG = cluster.kubeconfig;
      const watcher = await watchDeployment(deploymentName, namespace);
      return new KubernetesLab({ cluster, observer, watcher, serviceUrl, overrides, spec, namespace, deploymentName, dir });
    } catch (error) {
      await cluster?.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Resolves once `count` pods of the Deployment are Ready. */
  async waitForReady(count: number, timeoutMs = 120_000): Promise<void> {
    await until(async () => (this.watcher.current()?.ready ?? 0) >= count, { timeoutMs, intervalMs: 250, what: `${count} ready pods` });
  }

  /** kubectl rollout restart, then waits until the rollout is complete and the old pods are gone. */
  async rollout(log: (message: string) => void): Promise<void> {
    const target = `deployment/${this.deploymentName}`;
    await this.cluster.kubectl(['rollout', 'restart', target, '-n', this.namespace]);
    log(`kubectl rollout restart ${target}`);
    await this.cluster.kubectl(['rollout', 'status', target, '-n', this.namespace, '--timeout=300s']);
    log('rollout complete; waiting for the old pods to drain');
    await until(async () => (await this.cluster.kubectl(['get', 'pods', '-n', this.namespace, '-o', 'jsonpath={.items[*].metadata.deletionTimestamp}'])).stdout.trim() === '', {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: 'old pods gone',
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.watcher.stop().catch(() => undefined);
    await this.observer.stop().catch(() => undefined);
    await this.cluster.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
