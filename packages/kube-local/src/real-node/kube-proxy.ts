import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '@podscale/process/net.ts';
import { binaryPath } from '../binaries.ts';
import { Component } from '@podscale/process/components.ts';
import { writeKubeconfig } from '../kubeconfig.ts';
import type { ClusterPki } from '../pki.ts';
import type { PodNetwork } from '../pod-network.ts';
import { run } from './host.ts';

/**
 * The KubeProxyConfiguration (kubeproxy.config.k8s.io/v1alpha1, read from v0.34.4): iptables mode,
 * so ClusterIPs are DNAT rules in the machine's nat table; what differs from upstream's defaults
 * keeps it to this node's addresses and leaves the machine's conntrack settings alone.
 */
export function kubeProxyConfig(options: { kubeconfig: string; nodeName: string; network: PodNetwork; healthzPort: number; metricsPort: number }): string {
  const { network } = options;
  return `# kube-proxy for the podscale real node (written by packages/kube-local/src/real-node/kube-proxy.ts).
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: ${options.kubeconfig}
hostnameOverride: ${options.nodeName}
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:${options.healthzPort}
metricsBindAddress: 127.0.0.1:${options.metricsPort}
# Traffic from outside the pod range to a Service is masqueraded (the default rule, given its CIDR).
clusterCIDR: ${network.podCidr}
detectLocalMode: ClusterCIDR
# NodePorts only on the node's bridge address: upstream's default is every local address, which
# here would include the machine's real interface. Not loopback either, so kube-proxy leaves
# route_localnet alone.
nodePortAddresses: [${network.nodeIp}/32]
iptables:
  localhostNodePorts: false
  # Upstream's defaults (30 s, 1 s), said because rollouts depend on how fast endpoint changes
  # become rules.
  syncPeriod: 30s
  minSyncPeriod: 1s
# conntrack limits and timeouts are machine-wide (nf_conntrack_max, /sys/module hashsize): leave
# them as they are (0) on a shared VM, rather than size them for a node.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
oomScoreAdj: 0
`;
}

export class KubeProxy {
  readonly component: Component;
  readonly configFile: string;

  private constructor(component: Component, configFile: string) {
    this.component = component;
    this.configFile = configFile;
  }

  static async start(options: { dir: string; logDir: string; nodeName: string; apiserverUrl: string; pki: ClusterPki; network: PodNetwork; supervise?: (line: string) => void }): Promise<KubeProxy> {
    await mkdir(options.dir, { recursive: true });
    const kubeconfig = await writeKubeconfig(join(options.dir, 'kubeconfig'), { server: options.apiserverUrl, caFile: options.pki.ca.cert, user: 'system:kube-proxy', client: options.pki.kubeProxy });
    const configFile = join(options.dir, 'config.yaml');
    await writeFile(configFile, kubeProxyConfig({ kubeconfig, nodeName: options.nodeName, network: options.network, healthzPort: await freePort(), metricsPort: await freePort() }));
    const component = await Component.start('kube-proxy', binaryPath('kube-proxy'), [`--config=${configFile}`, '--v=1'], { logDir: options.logDir, supervise: options.supervise });
    return new KubeProxy(component, configFile);
  }

  async stop(): Promise<void> {
    await this.component.stop();
  }
}

/** `kube-proxy --cleanup`: upstream's own removal of its iptables (and ipvs, nftables) rules. */
export async function kubeProxyCleanup(): Promise<void> {
  await run(binaryPath('kube-proxy'), ['--cleanup', '--v=0']).catch(() => undefined);
}
