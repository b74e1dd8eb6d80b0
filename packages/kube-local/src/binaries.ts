import { access, constants } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The release the control plane runs: tools/cluster/kubernetes/go.mod pins it (a test keeps the two equal). */
export const KUBERNETES_VERSION = 'v1.37.2';

/** The upstream programs `scripts/build-cluster.sh` builds, by the module directory it puts them in. */
export const CLUSTER_BINARIES = {
  etcd: 'kubernetes',
  'kube-apiserver': 'kubernetes',
  'kube-controller-manager': 'kubernetes',
  'kube-scheduler': 'kubernetes',
  kubectl: 'kubernetes',
  // The real node (--node real): kubelet and kube-proxy from the same module and release.
  kubelet: 'kubernetes',
  'kube-proxy': 'kubernetes',
  'prometheus-adapter': 'prometheus-adapter',
  'metrics-server': 'metrics-server',
  prometheus: 'prometheus',
} as const;

export type ClusterBinary = keyof typeof CLUSTER_BINARIES;

export function clusterCacheDir(): string {
  return join(process.env.PODSCALE_CACHE ?? join(homedir(), '.cache', 'podscale'), 'cluster');
}

export function binaryPath(name: ClusterBinary): string {
  return join(clusterCacheDir(), CLUSTER_BINARIES[name], name);
}

/** The control plane's programs that scripts/build-cluster.sh also builds for each older supported minor. */
const VERSIONED_BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;
export type VersionedBinary = (typeof VERSIONED_BINARIES)[number];
const isVersioned = (name: ClusterBinary): name is VersionedBinary => (VERSIONED_BINARIES as readonly string[]).includes(name);

/**
 * A control-plane program of a supported release (tools/cluster/kubernetes-minors): the pinned
 * release's own, else the one scripts/build-cluster.sh built for that minor.
 */
export function controlPlaneBinary(name: VersionedBinary, version: string = KUBERNETES_VERSION): string {
  return version === KUBERNETES_VERSION ? binaryPath(name) : join(clusterCacheDir(), `kubernetes-${version}`, name);
}

/** What the control plane and the kit's upstream images need (a node agent cluster needs no more). */
export const CONTROL_PLANE_BINARIES: readonly ClusterBinary[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'prometheus-adapter', 'metrics-server', 'prometheus'];

/** The binaries that are not built yet (the control plane's of that release); empty when the cluster can start. */
export async function missingBinaries(names: readonly ClusterBinary[] = Object.keys(CLUSTER_BINARIES) as ClusterBinary[], version: string = KUBERNETES_VERSION): Promise<string[]> {
  const missing: string[] = [];
  for (const name of names) {
    const path = isVersioned(name) ? controlPlaneBinary(name, version) : binaryPath(name);
    try {
      await access(path, constants.X_OK);
    } catch {
      missing.push(path);
    }
  }
  return missing;
}
