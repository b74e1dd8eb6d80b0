import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { freePort, until } from '@podscale/process/net.ts';
import { binaryPath } from '../binaries.ts';
import { Component } from '@podscale/process/components.ts';
import { writeKubeconfig } from '../kubeconfig.ts';
import type { ClusterPki } from '../pki.ts';

export interface KubeletOptions {
  dir: string;
  logDir: string;
  nodeName: string;
  nodeIp: string;
  apiserverUrl: string;
  pki: ClusterPki;
  containerdSocket: string;
  /** Created beforehand (kubelet refuses a cgroupRoot that does not exist). */
  cgroupRoot: string;
  clusterDns: string;
  /** Restarts kubelet when it dies, and says so (see Component). */
  supervise?: (line: string) => void;
}

/**
 * The KubeletConfiguration (kubelet.config.k8s.io/v1beta1, as read from the v1.34.4 source):
 * every setting that differs from upstream's default, and why, for a node that is a 2-core
 * shared VM with cgroup v1, no swap, no systemd and no CAP_SYS_RESOURCE.
 */
export function kubeletConfig(options: KubeletOptions & { port: number; healthzPort: number; resolvConf: string }): string {
  const { dir, pki } = options;
  return `# kubelet for the podscale real node (written by packages/kube-local/src/real-node/kubelet.ts).
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# containerd 1.6 on its own socket under the cluster directory (not /run/containerd).
containerRuntimeEndpoint: unix://${options.containerdSocket}
# No systemd on this machine: cgroupfs, as containerd's runc (SystemdCgroup = false). containerd 1.6
# does not answer CRI's RuntimeConfig, so kubelet takes this value (it logs that it falls back).
cgroupDriver: cgroupfs
# This VM has cgroup v1 (hybrid). 1.34 still runs on it when this is false (the default, said
# here because 1.35 makes true the default); kubelet logs a deprecation warning at start.
failCgroupV1: false
# One subtree per cluster slot: kubepods/{burstable,besteffort}/pod<uid> go below it, so pods of
# this node are found, limited and removed in one place; the machine's other cgroups stay untouched.
cgroupRoot: ${options.cgroupRoot}
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
# CPU limits as CFS quota (the default, said because the tests depend on it: limits.cpu 1000m is
# cpu.cfs_quota_us 100000 per 100 ms period).
cpuCFSQuota: true
# There is no swap here; the check is off so a machine that has some does not stop the node.
failSwapOn: false
# Without CAP_SYS_RESOURCE kubelet cannot lower its own OOM score to the default -999 (it logs the
# failure and goes on): ask for what it has.
oomScoreAdj: 0
# Upstream's default: kubelet sets vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1
# (true would make it refuse to start on this VM's values). cluster up records and restores them.
protectKernelDefaults: false
# Serving: on the node's bridge address (where metrics-server and the apiserver reach it), with a
# certificate from the cluster CA, clients authenticated by certificate or token and authorized by
# the apiserver (SubjectAccessReview), as kubeadm sets it up. No read-only port.
address: ${options.nodeIp}
port: ${options.port}
readOnlyPort: 0
tlsCertFile: ${pki.nodeServing.cert}
tlsPrivateKeyFile: ${pki.nodeServing.key}
rotateCertificates: false
serverTLSBootstrap: false
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: ${pki.ca.cert}
authorization:
  mode: Webhook
healthzBindAddress: 127.0.0.1
healthzPort: ${options.healthzPort}
# Cluster DNS is the node's stand-in resolver (cluster-dns.ts) on the bridge address; pods never
# see the machine's own resolv.conf (its nameservers are outside the machine).
clusterDomain: cluster.local
clusterDNS: [${options.clusterDns}]
resolvConf: ${options.resolvConf}
# Everything kubelet keeps is under the cluster directory, not /var/lib/kubelet and /var/log/pods.
podLogsDir: ${join(dir, 'pod-logs')}
volumePluginDir: ${join(dir, 'volume-plugins')}
# A shared VM: evict only when the machine is really short (upstream's 10 %/15 % of a disk that
# other work fills would evict the kit's pods for nothing), and never garbage-collect images,
# which cannot be pulled again here (no registry; they are imported from podman's archives).
evictionHard:
  memory.available: 256Mi
  nodefs.available: 2%
  nodefs.inodesFree: 2%
  imagefs.available: 2%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# No systemd inhibitor lock to hold: graceful node shutdown is cluster up's own job.
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
# Every image is already in containerd (imported, never pulled): nothing to queue behind.
serializeImagePulls: false
`;
}

/** kubelet, as the Node authorizer knows it: system:node:<name> in group system:nodes. */
export class Kubelet {
  readonly component: Component;
  readonly port: number;

  private constructor(component: Component, port: number) {
    this.component = component;
    this.port = port;
  }

  static async start(options: KubeletOptions): Promise<Kubelet> {
    const { dir } = options;
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const [port, healthzPort] = [await freePort(), await freePort()];
    const resolvConf = join(dir, 'resolv.conf');
    // Merged into each ClusterFirst pod's resolv.conf after clusterDNS: nothing of the machine's.
    await writeFile(resolvConf, `nameserver ${options.clusterDns}\n`);
    const configFile = join(dir, 'config.yaml');
    await writeFile(configFile, kubeletConfig({ ...options, port, healthzPort, resolvConf }));
    const kubeconfig = await writeKubeconfig(join(dir, 'kubeconfig'), { server: options.apiserverUrl, caFile: options.pki.ca.cert, user: `system:node:${options.nodeName}`, client: options.pki.node });
    const component = await Component.start('kubelet', binaryPath('kubelet'), [
      `--config=${configFile}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${join(dir, 'root')}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--hostname-override=${options.nodeName}`,
      `--node-ip=${options.nodeIp}`,
      '--v=1',
    ], { logDir: options.logDir, graceMs: 15_000, supervise: options.supervise });
    const kubelet = new Kubelet(component, port);
    const agent = new Agent();
    try {
      await until(async () => !component.running || (await request(`http://127.0.0.1:${healthzPort}/healthz`, { dispatcher: agent }).then((response) => (response.body.dump(), response.statusCode === 200), () => false)), { timeoutMs: 60_000, intervalMs: 200, what: 'kubelet /healthz' });
      if (!component.running) throw new Error(`kubelet exited at start; see ${component.logFile}`);
    } catch (error) {
      await component.stop();
      throw error;
    } finally {
      await agent.close();
    }
    return kubelet;
  }

  async stop(): Promise<void> {
    await this.component.stop(15_000);
  }
}
