import { access, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { until } from '@podscale/process/net.ts';
import { missingBinaries } from '../binaries.ts';
import type { ControlPlane } from '../control-plane.ts';
import { KubeClient, type KubeObject } from '../kube-client.ts';
import type { PodNetwork } from '../pod-network.ts';
import { ApiserverEndpoint } from './apiserver-endpoint.ts';
import { createCgroupRoot } from './cgroups.ts';
import { ClusterDns } from './cluster-dns.ts';
import { gatewayAddress, writeCniConfig } from './cni.ts';
import { CNI_BIN_DIR, CONTAINERD, Containerd, CTR, RUNC } from './containerd.ts';
import { archiveOf, buildImages, containerdRoot, imageAliases, missingArchives, NODE_IMAGES, SANDBOX_IMAGE } from './images.ts';
import { KubeProxy } from './kube-proxy.ts';
import { Kubelet } from './kubelet.ts';
import { ServiceGateway } from './service-gateway.ts';
import { acquireNodeLock, lockHolder, releaseNodeLock } from './lock.ts';
import { nodePaths, realNodeLeftovers, sweepRealNode } from './sweep.ts';
import { saveSysctls, writeSysctl } from './sysctls.ts';

export interface RealNodeOptions {
  clusterDir: string;
  repoRoot: string;
  nodeName: string;
  network: PodNetwork;
  plane: ControlPlane;
  servicesFile: string;
  log: (line: string) => void;
}

/**
 * A real Kubernetes node on this machine: containerd + runc run the pods' images, the CNI bridge
 * gives each pod its network namespace on the slot's bridge, kubelet v1.34.4 runs them (probes,
 * limits, restarts, volumes), kube-proxy v1.34.4 makes Services iptables rules. Around them, what
 * a cloud or kubeadm would provide: cluster DNS (a stand-in), pods' route to the apiserver, and a
 * way for the host to reach Services (the gateway).
 */
export class RealNode {
  readonly options: RealNodeOptions;
  containerd: Containerd | undefined;
  kubelet: Kubelet | undefined;
  kubeProxy: KubeProxy | undefined;
  readonly #stoppers: (() => Promise<void>)[] = [];
  readonly #clients: KubeClient[] = [];

  private constructor(options: RealNodeOptions) {
    this.options = options;
  }

  /** Why a real node cannot run here, or undefined when it can (image archives aside: those are built). */
  static async unavailable(): Promise<string | undefined> {
    if (process.getuid?.() !== 0) return 'a real node (containerd, kubelet, kube-proxy) needs root';
    for (const [path, what] of [[CONTAINERD, 'containerd'], [CTR, 'containerd'], [RUNC, 'runc'], [join(CNI_BIN_DIR, 'bridge'), 'containernetworking-plugins'], [join(CNI_BIN_DIR, 'host-local'), 'containernetworking-plugins'], [join(CNI_BIN_DIR, 'loopback'), 'containernetworking-plugins'], ['/usr/sbin/iptables', 'iptables'], ['/usr/sbin/conntrack', 'conntrack']] as const) {
      if (!(await access(path, constants.X_OK).then(() => true, () => false))) return `a real node needs ${path} (apt-get install ${what}; or bash scripts/setup.sh --with-cluster)`;
    }
    const missing = await missingBinaries(['kubelet', 'kube-proxy']);
    if (missing.length > 0) return `kubelet and kube-proxy are not built (missing ${missing.join(', ')}): run bash scripts/setup.sh --with-cluster`;
    const holder = await lockHolder();
    if (holder) return `another real node is running (pid ${holder.pid}, ${holder.dir}); one per machine, since its iptables chains are machine-wide`;
    return undefined;
  }

  static async start(options: RealNodeOptions): Promise<RealNode> {
    const node = new RealNode(options);
    try {
      await node.#start();
    } catch (error) {
      await node.stop().catch(() => undefined);
      throw error;
    }
    return node;
  }

  async #start(): Promise<void> {
    const { clusterDir, network, plane, log } = this.options;
    const paths = nodePaths(clusterDir, network.slot);
    const logDir = join(clusterDir, 'logs');
    await mkdir(paths.dir, { recursive: true, mode: 0o755 });
    await acquireNodeLock(clusterDir);
    this.#stoppers.push(() => releaseNodeLock(clusterDir));
    if ((await missingArchives()).length > 0) {
      log(`building the images (missing ${(await missingArchives()).join(', ')}): scripts/build-images.sh`);
      await buildImages(this.options.repoRoot, log);
    }
    // From here on the machine changes: record what stop() must put back first.
    await saveSysctls(paths.sysctls);
    this.#stoppers.push(() => sweepRealNode(clusterDir, network.slot));
    // Pods reach Services (DNAT on the bridge) and each other through the node: forwarding on.
    await writeSysctl('net/ipv4/ip_forward', '1');
    await createCgroupRoot(paths.cgroupRoot);
    const cni = await writeCniConfig({ dir: paths.cni, network });

    const started = performance.now();
    this.containerd = await Containerd.start({ dir: paths.containerd, root: containerdRoot(), logDir, sandboxImage: SANDBOX_IMAGE, cniConfDir: cni.confDir, supervise: log });
    const containerd = this.containerd;
    this.#stoppers.push(() => containerd.stop());
    this.#stoppers.push(() => containerd.removeAllContainers());
    // The image store outlives runs; what a killed run left in it (stopped containers) goes first.
    await containerd.removeAllContainers();
    const imported = await containerd.importImages(NODE_IMAGES.map((image) => ({ image, archive: archiveOf(image) })));
    for (const [source, target] of await imageAliases(this.options.repoRoot)) await containerd.tag(source, target);
    log(`containerd ${paths.containerd}: ${imported.length} of ${NODE_IMAGES.length} images imported, the rest current in ${containerdRoot()} (${((performance.now() - started) / 1000).toFixed(1)} s)`);

    const pki = plane.pki;
    const admin = await KubeClient.create(plane.apiserverUrl, pki.ca.cert, pki.admin);
    this.#clients.push(admin);
    // The apiserver's client identity for kubelet (logs, exec, port-forward), as kubeadm binds it.
    await admin
      .call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', { metadata: { name: 'podscale:apiserver-kubelet-api-admin' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:kubelet-api-admin' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'kube-apiserver-kubelet-client' }] })
      .catch((error: { status?: number }) => {
        if (error.status !== 409) throw error;
      });
    const apiserverPort = Number(new URL(plane.apiserverUrl).port);
    const endpoint = await ApiserverEndpoint.start({ nodeIp: network.nodeIp, apiserver: { host: '127.0.0.1', port: apiserverPort }, client: admin });
    this.#stoppers.push(() => endpoint.stop());
    const dns = new ClusterDns({ client: admin });
    await dns.start(network.nodeIp);
    this.#stoppers.push(() => dns.stop());

    this.kubeProxy = await KubeProxy.start({ dir: paths.kubeProxy, logDir, nodeName: this.options.nodeName, apiserverUrl: plane.apiserverUrl, pki, network, supervise: log });
    const kubeProxy = this.kubeProxy;
    this.#stoppers.push(() => kubeProxy.stop());
    this.kubelet = await Kubelet.start({ dir: paths.kubelet, logDir, nodeName: this.options.nodeName, nodeIp: network.nodeIp, apiserverUrl: plane.apiserverUrl, pki, containerdSocket: containerd.socket, cgroupRoot: `/${paths.cgroupRoot}`, clusterDns: network.nodeIp, supervise: log });
    const kubelet = this.kubelet;
    this.#stoppers.push(() => kubelet.stop());
    log(`kubelet and kube-proxy started (logs in ${logDir})`);

    const gateway = new ServiceGateway({ client: admin, network, address: gatewayAddress(network), servicesFile: this.options.servicesFile });
    await gateway.start();
    this.#stoppers.push(() => gateway.stop());
  }

  /**
   * Deletes every pod with its own grace period and waits for kubelet to have stopped them (so
   * containerd has torn down their sandboxes and CNI released their addresses). The controllers
   * must be stopped first, or they would replace the pods.
   */
  async drain(timeoutMs = 60_000): Promise<void> {
    const admin = this.#clients[0];
    if (!admin || !this.kubelet?.component.running) return;
    const list = async () => (await admin.get<{ items: KubeObject[] }>('/api/v1/pods')).items;
    for (const pod of await list()) {
      await admin.call('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`).catch(() => undefined);
    }
    await until(async () => (await list()).length === 0, { timeoutMs, intervalMs: 500, what: 'every pod to be stopped by kubelet' }).catch(async () => {
      for (const pod of await list()) await admin.call('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}?gracePeriodSeconds=0`).catch(() => undefined);
    });
  }

  /** Stops everything in reverse order of start, then sweeps what is left. */
  async stop(): Promise<void> {
    for (const stop of this.#stoppers.splice(0).reverse()) await stop().catch((error: Error) => this.options.log(`stopping the node: ${error.message}`));
    for (const client of this.#clients.splice(0)) await client.close().catch(() => undefined);
  }

  leftovers(): Promise<string[]> {
    return realNodeLeftovers(this.options.clusterDir, this.options.network.slot);
  }
}
