import { KubeConfig, Watch } from '@kubernetes/client-node';
import type { ReplicaState, ReplicaWatcher } from './replicas.ts';

/** The fields of a Deployment and an HPA (autoscaling/v2) that the watcher reads. */
export interface DeploymentObject {
  metadata: { name: string };
  spec?: { replicas?: number };
  status?: { replicas?: number; readyReplicas?: number };
}

interface MetricTarget {
  type: string;
  averageUtilization?: number;
  averageValue?: string;
  value?: string;
}

interface MetricValue {
  averageUtilization?: number;
  averageValue?: string;
  value?: string;
}

interface MetricSpec {
  type: string;
  resource?: { name: string; target: MetricTarget };
  containerResource?: { name: string; target: MetricTarget };
  pods?: { metric: { name: string }; target: MetricTarget };
  object?: { metric: { name: string }; target: MetricTarget };
  external?: { metric: { name: string }; target: MetricTarget };
}

interface MetricStatus {
  type: string;
  resource?: { name: string; current: MetricValue };
  containerResource?: { name: string; current: MetricValue };
  pods?: { metric: { name: string }; current: MetricValue };
  object?: { metric: { name: string }; current: MetricValue };
  external?: { metric: { name: string }; current: MetricValue };
}

export interface HpaObject {
  metadata: { name: string };
  spec: { scaleTargetRef: { kind: string; name: string }; metrics?: MetricSpec[] };
  status?: { currentReplicas?: number; desiredReplicas?: number; currentMetrics?: MetricStatus[] | null };
}

type WatchPhase = 'ADDED' | 'MODIFIED' | 'DELETED' | string;

interface WatchedState {
  deployment?: DeploymentObject;
  hpa?: HpaObject;
}

/** The type-specific part of a metric spec or status: its name, and its target or current value. */
function sourceOf(metric: MetricSpec | MetricStatus): { name: string; value: MetricTarget | MetricValue } | undefined {
  const named = metric.resource ?? metric.containerResource;
  const byMetric = metric.pods ?? metric.object ?? metric.external;
  const body = named ?? byMetric;
  if (!body) return undefined;
  return { name: named ? named.name : byMetric!.metric.name, value: 'target' in body ? body.target : body.current };
}

const metricName = (metric: MetricSpec | MetricStatus): string => sourceOf(metric)?.name ?? metric.type;

function formatTarget(target: MetricTarget | MetricValue): string {
  if (target.averageUtilization !== undefined) return `${target.averageUtilization}%`;
  return target.averageValue ?? target.value ?? '?';
}

/** One watch event applied to the state; pure, so recorded events can test it. */
export function applyWatchEvent(state: WatchedState, kind: 'Deployment' | 'HorizontalPodAutoscaler', phase: WatchPhase, object: DeploymentObject | HpaObject, deploymentName: string): WatchedState {
  if (kind === 'Deployment') {
    if (object.metadata.name !== deploymentName) return state;
    return { ...state, deployment: phase === 'DELETED' ? undefined : (object as DeploymentObject) };
  }
  const hpa = object as HpaObject;
  if (hpa.spec.scaleTargetRef.kind !== 'Deployment' || hpa.spec.scaleTargetRef.name !== deploymentName) return state;
  return { ...state, hpa: phase === 'DELETED' ? undefined : hpa };
}

/** The state as the load tool shows it; undefined until the Deployment has been seen. */
export function toReplicaState(state: WatchedState): ReplicaState | undefined {
  const deployment = state.deployment;
  if (!deployment) return undefined;
  const current = state.hpa?.status?.currentMetrics ?? [];
  return {
    source: 'kubernetes',
    name: deployment.metadata.name,
    desired: deployment.spec?.replicas ?? 0,
    ready: deployment.status?.readyReplicas ?? 0,
    metrics: (state.hpa?.spec.metrics ?? []).map((spec) => {
      const source = sourceOf(spec);
      const name = source?.name ?? spec.type;
      const status = current.find((m) => m.type === spec.type && metricName(m) === name);
      const currentValue = status ? sourceOf(status)?.value : undefined;
      return { name, current: currentValue ? formatTarget(currentValue) : null, target: source ? formatTarget(source.value) : '?' };
    }),
  };
}

/**
 * Follows a Deployment and the HPA that targets it with the user's kubeconfig (KUBECONFIG or
 * ~/.kube/config), as `kubectl get deploy,hpa -w` would.
 */
export async function watchDeployment(name: string, namespace: string, onChange?: (state: ReplicaState) => void): Promise<ReplicaWatcher> {
  const config = new KubeConfig();
  config.loadFromDefault();
  const watch = new Watch(config);
  let state: WatchedState = {};
  const controllers: AbortController[] = [];
  let stopped = false;
  const follow = async (kind: 'Deployment' | 'HorizontalPodAutoscaler', path: string): Promise<void> => {
    const controller = await watch.watch(
      path,
      {},
      (phase, object: DeploymentObject | HpaObject) => {
        state = applyWatchEvent(state, kind, phase, object, name);
        const replicas = toReplicaState(state);
        if (replicas) onChange?.(replicas);
      },
      // The API server ends watches after a while; start a new one unless the run is over.
      () => {
        if (!stopped) void follow(kind, path).catch(() => undefined);
      },
    );
    controllers.push(controller);
  };
  await follow('Deployment', `/apis/apps/v1/namespaces/${namespace}/deployments`);
  await follow('HorizontalPodAutoscaler', `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers`);
  return {
    current: () => toReplicaState(state),
    stop: async () => {
      stopped = true;
      for (const controller of controllers) controller.abort();
    },
  };
}
