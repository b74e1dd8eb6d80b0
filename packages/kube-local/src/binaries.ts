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

/**
 * The kube-apiserver of a supported release (tools/cluster/kubernetes-minors): the control plane's
 * own for its release, else the one `scripts/build-cluster.sh` built for that minor alone.
 */
export function kubeApiserverPath(version: string = KUBERNETES_VERSION): string {
  return version === KUBERNETES_VERSION ? binaryPath('kube-apiserver') : join(clusterCacheDir(), `kube-apiserver-${version}`, 'kube-apiserver');
}

/** What the control plane and the kit's upstream images need (a node agent cluster needs no more). */
export const CONTROL_PLANE_BINARIES: readonly ClusterBinary[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'prometheus-adapter', 'metrics-server', 'prometheus'];

/** The binaries that are not built yet; empty when the cluster can start. */
export async function missingBinaries(names: readonly ClusterBinary[] = Object.keys(CLUSTER_BINARIES) as ClusterBinary[]): Promise<string[]> {
  const missing: string[] = [];
  for (const name of names) {
    try {
      await access(binaryPath(name), constants.X_OK);
    } catch {
      missing.push(binaryPath(name));
    }
  }
  return missing;
}
