/**
 * The Kubernetes minors the port follows and the kube-controller-manager feature gates that touch
 * the HPA in each (pkg/features/kube_features.go of v1.34.4, v1.35.4, v1.36.3, v1.37.2). Everything
 * that differs by minor is decided from here, so a new minor is one more row.
 */

/** Oldest first; the last is the control plane the project pins. */
export const KUBERNETES_VERSIONS = ['1.34', '1.35', '1.36', '1.37'] as const;
export type KubernetesVersion = (typeof KUBERNETES_VERSIONS)[number];
export const DEFAULT_KUBERNETES_VERSION: KubernetesVersion = '1.37';

export const FEATURE_GATES = ['HPAConfigurableTolerance', 'HPAScaleToZero', 'HPAGeneration', 'HPAOptimizedSelectorStore', 'StaleControllerConsistencyHPA'] as const;
export type FeatureGate = (typeof FEATURE_GATES)[number];
/** kube-controller-manager --feature-gates overrides, as a situation gives them. */
export type FeatureGates = Partial<Record<FeatureGate, boolean>>;

interface GateState {
  stage: 'alpha' | 'beta' | 'GA';
  default: boolean;
  /** LockToDefault: the binary refuses any other value. */
  locked?: true;
}

const alphaOff: GateState = { stage: 'alpha', default: false };
const betaOn: GateState = { stage: 'beta', default: true };

/** A gate missing from a minor did not exist in it. */
const GATE_TABLE: Record<KubernetesVersion, Partial<Record<FeatureGate, GateState>>> = {
  '1.34': { HPAConfigurableTolerance: alphaOff, HPAScaleToZero: alphaOff },
  '1.35': { HPAConfigurableTolerance: betaOn, HPAScaleToZero: alphaOff },
  '1.36': { HPAConfigurableTolerance: betaOn, HPAScaleToZero: alphaOff },
  '1.37': {
    HPAConfigurableTolerance: { stage: 'GA', default: true, locked: true },
    HPAScaleToZero: betaOn,
    HPAGeneration: betaOn,
    HPAOptimizedSelectorStore: betaOn,
    StaleControllerConsistencyHPA: betaOn,
  },
};

const versionList = KUBERNETES_VERSIONS.map((version) => `"${version}"`).join(', ');

export function isKubernetesVersion(value: unknown): value is KubernetesVersion {
  return typeof value === 'string' && (KUBERNETES_VERSIONS as readonly string[]).includes(value);
}

/** A version as a situation or a flag gives it; the error says which values exist. */
export function parseKubernetesVersion(value: unknown, what = 'kubernetesVersion'): KubernetesVersion {
  if (isKubernetesVersion(value)) return value;
  const got = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
  throw new Error(`${what} must be one of ${versionList} (a minor, as a string); got ${got}`);
}

/** Whether `version` is `minor` or later: code that arrived in a minor stays in the later ones. */
export function atLeast(version: KubernetesVersion, minor: KubernetesVersion): boolean {
  return KUBERNETES_VERSIONS.indexOf(version) >= KUBERNETES_VERSIONS.indexOf(minor);
}

export type ResolvedGates = Record<FeatureGate, boolean>;

/**
 * Every gate's value in `version` with the overrides applied, refused as kube-controller-manager
 * refuses them at startup: a gate that minor does not know, or a locked gate set against its lock.
 */
export function resolveGates(version: KubernetesVersion, overrides: FeatureGates = {}): ResolvedGates {
  const table = GATE_TABLE[parseKubernetesVersion(version)];
  for (const [gate, value] of Object.entries(overrides) as [string, unknown][]) {
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new Error(`feature gate ${gate} must be true or false; got ${JSON.stringify(value)}`);
    const state = table[gate as FeatureGate];
    if (state === undefined) {
      const since = KUBERNETES_VERSIONS.find((minor) => GATE_TABLE[minor][gate as FeatureGate] !== undefined);
      const known = Object.keys(table).join(', ');
      throw new Error(
        since === undefined
          ? `unrecognized feature gate ${gate} (Kubernetes ${version} knows ${known})`
          : `feature gate ${gate} does not exist in Kubernetes ${version} (it arrives in ${since}): remove it, or set kubernetesVersion to "${since}" or later`,
      );
    }
    if (state.locked && value !== state.default) {
      const unlocked = [...KUBERNETES_VERSIONS].reverse().find((minor) => GATE_TABLE[minor][gate as FeatureGate]?.locked !== true);
      throw new Error(
        `feature gate ${gate} is locked to ${state.default} in Kubernetes ${version} (${state.stage}): remove the override` +
          (unlocked ? `, or set kubernetesVersion to "${unlocked}" or earlier to set it to ${value}` : ''),
      );
    }
  }
  return Object.fromEntries(FEATURE_GATES.map((gate) => [gate, overrides[gate] ?? table[gate]?.default ?? false])) as ResolvedGates;
}
