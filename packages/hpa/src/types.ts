import type { FeatureGates, KubernetesVersion } from './gates.ts';
import type { Quantity } from './quantity.ts';

/** An autoscaling/v2 HorizontalPodAutoscaler spec, minus scaleTargetRef. */
export interface MetricTarget {
  type: 'Utilization' | 'Value' | 'AverageValue';
  averageUtilization?: number;
  averageValue?: Quantity;
  value?: Quantity;
}

export type MetricSpec =
  | { type: 'Resource'; resource: { name: string; target: MetricTarget } }
  | { type: 'ContainerResource'; containerResource: { name: string; container: string; target: MetricTarget } }
  | { type: 'Pods'; pods: { metric: { name: string }; target: MetricTarget } }
  | { type: 'Object'; object: { metric: { name: string }; target: MetricTarget } }
  | { type: 'External'; external: { metric: { name: string }; target: MetricTarget } };

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: ScalingPolicy[];
  tolerance?: Quantity;
}

export interface HpaSpec {
  minReplicas?: number;
  maxReplicas: number;
  metrics?: MetricSpec[];
  /** undefined/null: no behavior (the controller's legacy path); {}: autoscaling/v2 defaults. */
  behavior?: { scaleUp?: ScalingRules; scaleDown?: ScalingRules } | null;
}

export interface PodInfo {
  name: string;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  /** The Ready condition: true, false, or null when the pod has none. */
  ready?: boolean | null;
  /** status.startTime, epoch seconds. */
  startTimeS?: number;
  /** The Ready condition's lastTransitionTime, epoch seconds. */
  readySinceS?: number;
  deleting?: boolean;
  requests?: Record<string, Quantity>;
  containerRequests?: Record<string, Record<string, Quantity>>;
}

export interface ResourceSample {
  value: Quantity;
  timestamp?: number;
  window?: number;
}

export interface Observed {
  resource?: Record<string, Record<string, Quantity | ResourceSample>>;
  containerResource?: Record<string, Record<string, Record<string, Quantity | ResourceSample>>>;
  pods?: Record<string, Record<string, Quantity>>;
  object?: Record<string, Quantity>;
  external?: Record<string, Quantity | Quantity[]>;
}

export interface ScaleEvent {
  time: number;
  change: number;
}

export interface History {
  recommendations?: { time: number; replicas: number }[];
  scaleUpEvents?: ScaleEvent[];
  scaleDownEvents?: ScaleEvent[];
}

/** Everything the controller sees at one sync: the input of `podscale hpa explain` (which names a pod's times startTime and readySince: explain.ts). */
export interface Situation {
  spec: HpaSpec;
  currentReplicas: number;
  statusReplicas?: number;
  now: number;
  pods?: PodInfo[];
  metrics?: Observed;
  history?: History;
  tolerance?: number;
  cpuInitializationPeriod?: number;
  delayOfInitialReadinessStatus?: number;
  downscaleStabilizationWindow?: number;
  scaleUpLimitFactor?: number;
  /** The kube-controller-manager minor whose algorithm decides (default: the pinned control plane, gates.ts). */
  kubernetesVersion?: KubernetesVersion;
  /**
   * kube-controller-manager --feature-gates overrides; the defaults are the minor's (gates.ts).
   * HPAConfigurableTolerance makes behavior.scaleUp/scaleDown.tolerance count; HPAScaleToZero (read
   * from 1.36) lets the HPA scale up from a zero it made itself and keeps the ScaledToZero condition.
   */
  featureGates?: FeatureGates;
  /** The HPA's status has ScaledToZero=True: the controller itself scaled the target to zero (1.36+). */
  scaledToZero?: boolean;
}

export interface MetricProposal {
  type: MetricSpec['type'];
  name: string;
  current: string | null;
  target: string;
  proposal: number | null;
  error?: string;
}

export interface Decision {
  desiredReplicas: number;
  metrics: MetricProposal[];
  reason: string;
  /** The recommendation before stabilization and rate limits; the controller remembers it. */
  recommendation?: number;
  /** The HPA status conditions this sync sets (horizontal.go setCondition), in the order it sets them. */
  conditions?: HpaCondition[];
  /** The conditions this sync deletes from the status (horizontal.go removeCondition, 1.36+). */
  removedConditions?: 'ScaledToZero'[];
}

export interface HpaCondition {
  type: 'AbleToScale' | 'ScalingActive' | 'ScalingLimited' | 'ScaledToZero';
  status: 'True' | 'False';
  /**
   * e.g. ValidMetricFound, FailedGetResourceMetric, ScalingDisabled, ScaleDownStabilized, ScaleUpLimit,
   * TooFewReplicas; ScaledToZero ("the HPA controller scaled the workload to zero") or NotScaledToZero.
   */
  reason: string;
}
