import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { binaryPath, KUBERNETES_VERSION, missingBinaries, type ClusterBinary } from '@podscale/kube-local/binaries.ts';
import { Cluster, type NodeKind } from '@podscale/kube-local/cluster.ts';

const run = promisify(execFile);

/**
 * Why the real-control-plane tests cannot run here, or undefined when they can. Printed once by
 * each test file that skips, so a machine without the binaries says so instead of passing quietly.
 */
export async function clusterSkipReason(needs: readonly ClusterBinary[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'], version?: string): Promise<string | undefined> {
  const missing = await missingBinaries(needs, version);
  if (missing.length === 0) return undefined;
  const reason = `skipped: the control plane is not built (missing ${missing.join(', ')}); run bash scripts/setup.sh --with-cluster (needs Go)`;
  process.stderr.write(`${reason}\n`);
  return reason;
}

/** kubectl built from the same release as the apiserver (the machine's kubectl may be skewed). */
export async function kubectl(kubeconfig: string, args: string[], options: { input?: string } = {}): Promise<{ stdout: string; stderr: string }> {
  const child = run(binaryPath('kubectl'), ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 });
  if (options.input !== undefined) {
    child.child.stdin?.end(options.input);
  }
  return child;
}

/** What a cluster with a real node needs built: the control plane, the kit's images' binaries, kubelet and kube-proxy. */
export const REAL_NODE_BINARIES: readonly ClusterBinary[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'prometheus', 'prometheus-adapter', 'metrics-server', 'kubelet', 'kube-proxy'];

/**
 * The node the end-to-end cluster tests run on: the real one (kubelet, containerd, kube-proxy)
 * wherever it can run, else the node agent, with one line saying which and why.
 */
export async function e2eNode(file: string): Promise<NodeKind> {
  const { node, why } = await Cluster.autoNode();
  process.stdout.write(why ? `${file}: node agent (a real node cannot run here: ${why})\n` : `${file}: real node (kubelet ${KUBERNETES_VERSION}, containerd, runc, CNI bridge, kube-proxy)\n`);
  return node;
}
