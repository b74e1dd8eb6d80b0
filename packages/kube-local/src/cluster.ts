import { execFile } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { until } from '@podscale/process/net.ts';
import { binaryPath } from './binaries.ts';
import { prepareClusterDir } from './cluster-dir.ts';
import { ControlPlane, type ControlPlaneOptions } from './control-plane.ts';
import { KubeClient } from './kube-client.ts';
import { NodeAgent } from './node-agent.ts';
import { PodNetwork } from './pod-network.ts';
import { missingArchives } from './real-node/images.ts';
import { RealNode } from './real-node/real-node.ts';
import { ServiceProxy } from './service-proxy.ts';
import { KUBERNETES_VERSION } from './binaries.ts';

const run = promisify(execFile);

export const NODE_NAME = 'podscale-node';

/** `agent`: the node agent stand-in (no container runtime); `real`: kubelet + containerd + kube-proxy. */
export type NodeKind = 'agent' | 'real';

export interface ClusterOptions {
  /** Where the kubeconfig, services.json, PKI, etcd data, logs and pod files go: a new or empty directory, or one an earlier start marked (see cluster-dir.ts). */
  dir: string;
  /** The repository whose Dockerfile and build podscale's images come from. */
  repoRoot: string;
  hpa?: ControlPlaneOptions['hpa'];
  /** Which node runs the pods (default `agent`). */
  node?: NodeKind;
  /** The control plane's release, one of tools/cluster/kubernetes-minors (default the pinned one; an older one runs on the node agent). */
  kubernetesVersion?: string;
  /** Called once the pod network's slot is claimed (the CLI's janitor needs to know which). */
  onNetwork?: (network: PodNetwork) => void;
  log?: (line: string) => void;
}

/**
 * What differs from a real cluster, printed by `cluster up` so that nobody mistakes the stand-ins
 * for the real thing.
 */
export const DIFFERENCES = [
  'node: the podscale node agent runs each container as a process (in the pod\'s own network and mount namespaces, as the pod\'s user, without capabilities), not a kubelet + container runtime; CPU/memory limits are not enforced',
  'Services: a userspace proxy listens on each ClusterIP (held by the node\'s podscale<N> bridge) instead of kube-proxy\'s iptables rules; Service names resolve through each pod\'s /etc/hosts (no cluster DNS)',
  'apiserver: listens on 127.0.0.1 only (--endpoint-reconciler-type=none); the proxy routes the kubernetes Service (10.96.0.1:443) to it',
  'images: podscale images run the Dockerfile stage\'s CMD from this checkout; upstream images run the binaries built from the same releases',
];

/** What is still stood in with a real node (`--node real`). */
export const REAL_NODE_DIFFERENCES = [
  'cluster DNS: a resolver of Service names only (<service>.<namespace>.svc.cluster.local) on the node\'s bridge address, not CoreDNS; it forwards nothing',
  'apiserver: listens on 127.0.0.1 only; pods reach it through the kubernetes Service, whose EndpointSlice names a relay on the node\'s bridge address',
  'services.json: each URL is a 127.0.0.1 socket handed to a gateway namespace on the pod bridge, which connects to the Service\'s ClusterIP (kube-proxy\'s rules; the Service range stays blackholed on the machine)',
];

export function differences(node: NodeKind): string[] {
  return node === 'real' ? REAL_NODE_DIFFERENCES : DIFFERENCES;
}

/**
 * A single-node Kubernetes cluster on this machine: the real control plane (see ControlPlane) and
 * either the node agent in place of a kubelet and the Service proxy in place of kube-proxy, or a
 * real node (RealNode: kubelet, containerd, runc, CNI, kube-proxy).
 */
export class Cluster {
  readonly dir: string;
  readonly plane: ControlPlane;
  readonly network: PodNetwork;
  readonly agent: NodeAgent | undefined;
  readonly proxy: ServiceProxy | undefined;
  readonly realNode: RealNode | undefined;
  readonly servicesFile: string;
  readonly #clients: KubeClient[];

  private constructor(dir: string, plane: ControlPlane, network: PodNetwork, node: { agent: NodeAgent; proxy: ServiceProxy } | RealNode, clients: KubeClient[]) {
    this.dir = dir;
    this.plane = plane;
    this.network = network;
    if (node instanceof RealNode) this.realNode = node;
    else ({ agent: this.agent, proxy: this.proxy } = node);
    this.servicesFile = join(dir, 'services.json');
    this.#clients = clients;
  }

  get kubeconfig(): string {
    return this.plane.adminKubeconfig;
  }

  get node(): NodeKind {
    return this.realNode ? 'real' : 'agent';
  }

  /** Where the node keeps each pod's logs, one directory `<namespace>_<pod>_<uid>` per pod. */
  get podLogsDir(): string {
    return this.realNode ? join(this.dir, 'node', 'kubelet', 'pod-logs') : join(this.dir, 'pods');
  }

  /**
   * A container's log file in a pod's log directory: kubelet's `<container>/<restart>.log` (CRI
   * format: `<time> <stream> <P|F> <line>`), the agent's `<container>.log` (the lines as written).
   */
  podLogFile(podDir: string, container: string, restart = 0): string {
    return this.realNode ? join(this.podLogsDir, podDir, container, `${restart}.log`) : join(this.podLogsDir, podDir, `${container}.log`);
  }

  /** Why this machine cannot run the cluster (with this node), or undefined when it can. */
  static async unavailable(node: NodeKind = 'agent'): Promise<string | undefined> {
    return (await PodNetwork.available()) ?? (node === 'real' ? await RealNode.unavailable() : undefined);
  }

  /**
   * `--node auto`: the real node where it can run with what is built, its images included
   * (building them is for an explicit `--node real`), else the agent and why.
   */
  static async autoNode(): Promise<{ node: NodeKind; why?: string }> {
    const why = (await Cluster.unavailable('real')) ?? ((await missingArchives()).length > 0 ? 'its images are not built (bash scripts/setup.sh --with-cluster, or --node real builds them)' : undefined);
    return why === undefined ? { node: 'real' } : { node: 'agent', why };
  }


  static async start(options: ClusterOptions): Promise<Cluster> {
    const log = options.log ?? (() => undefined);
    const version = options.kubernetesVersion ?? KUBERNETES_VERSION;
    // kubelet may not be newer than the apiserver (the version skew policy), and only the pinned release's is built.
    if (options.node === 'real' && version !== KUBERNETES_VERSION) throw new Error(`the real node runs kubelet ${KUBERNETES_VERSION}, which may not join a ${version} control plane: use the node agent (--node agent) with an older release`);
    const dir = await prepareClusterDir(options.dir);
    // Pods run as their own users and must traverse to their volumes under this directory.
    await chmod(dir, 0o755);
    const network = await PodNetwork.claim();
    log(`pod network: bridge ${network.bridge}, pods ${network.podCidr}, Services ${network.serviceCidr} (blackholed)`);
    options.onNetwork?.(network);
    let plane: ControlPlane | undefined;
    const clients: KubeClient[] = [];
    let agent: NodeAgent | undefined;
    let proxy: ServiceProxy | undefined;
    let realNode: RealNode | undefined;
    try {
      plane = await ControlPlane.start({ dir, nodeName: NODE_NAME, nodeIps: [network.nodeIp], serviceCidr: network.serviceCidr, kubernetesServiceIp: network.kubernetesServiceIp, hpa: options.hpa, aggregatorRouting: options.node === 'real', version, log });
      if (options.node === 'real') {
        realNode = await RealNode.start({ clusterDir: dir, repoRoot: options.repoRoot, nodeName: NODE_NAME, network, plane, servicesFile: join(dir, 'services.json'), log });
        const cluster = new Cluster(dir, plane, network, realNode, clients);
        await cluster.#nodeReady(log);
        return cluster;
      }
      const pki = plane.pki;
      const nodeClient = await KubeClient.create(plane.apiserverUrl, pki.ca.cert, pki.node);
      const adminClient = await KubeClient.create(plane.apiserverUrl, pki.ca.cert, pki.admin);
      clients.push(nodeClient, adminClient);
      const apiserverPort = Number(new URL(plane.apiserverUrl).port);
      let onServices: () => void = () => undefined;
      proxy = new ServiceProxy({ client: adminClient, network, apiserver: { host: '127.0.0.1', port: apiserverPort }, servicesFile: join(dir, 'services.json'), onServicesChanged: () => onServices() });
      const serviceProxy = proxy;
      agent = new NodeAgent({
        nodeName: NODE_NAME,
        nodeIp: network.nodeIp,
        client: nodeClient,
        reviewer: adminClient,
        servingCert: pki.nodeServing,
        network,
        podsDir: join(dir, 'pods'),
        repoRoot: options.repoRoot,
        apiserver: { serviceHost: network.kubernetesServiceIp, servicePort: 443 },
        hostsEntries: () => serviceProxy.hostsEntries(),
        kubeletVersion: version,
        log,
      });
      const nodeAgent = agent;
      onServices = () => void nodeAgent.refreshHosts();
      await mkdir(join(dir, 'pods'), { recursive: true, mode: 0o755 });
      await proxy.start();
      await agent.start();
      const cluster = new Cluster(dir, plane, network, { agent, proxy }, clients);
      await cluster.#nodeReady(log);
      return cluster;
    } catch (error) {
      if (realNode && plane) await Cluster.#stopRealNode(plane, realNode);
      await agent?.stop().catch(() => undefined);
      await proxy?.stop().catch(() => undefined);
      for (const client of clients) await client.close().catch(() => undefined);
      await plane?.stop().catch(() => undefined);
      await network.tearDown();
      throw error;
    }
  }

  async #nodeReady(log: (line: string) => void): Promise<void> {
    await until(async () => (await this.kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}/{.spec.taints}'])).stdout === 'True/', { timeoutMs: 90_000, intervalMs: 250, what: `node ${NODE_NAME} Ready and untainted` });
    log(`node ${NODE_NAME} Ready`);
  }

  /**
   * A real node's pods are stopped by kubelet, through containerd (so their sandboxes and CNI
   * addresses go too): with the controller-manager and scheduler stopped first, nothing replaces
   * them while they drain.
   */
  static async #stopRealNode(plane: ControlPlane, node: RealNode): Promise<void> {
    for (const component of plane.components) if (component.name === 'kube-controller-manager' || component.name === 'kube-scheduler') await component.stop();
    await node.drain().catch(() => undefined);
    await node.stop();
  }

  /** What the cluster left on the machine (namespaces, bridge, routes; a real node's processes, mounts, cgroups, chains, sysctls). */
  async leftovers(): Promise<string[]> {
    return [...(await this.network.leftovers()), ...((await this.realNode?.leftovers()) ?? [])];
  }

  /** kubectl of the cluster's own release, as admin. */
  kubectl(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
    const child = run(binaryPath('kubectl'), ['--kubeconfig', this.kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) child.child.stdin?.end(input);
    return child;
  }

  /** `kubectl apply --server-side -k DIR`, as a user applies the kit. */
  async apply(kustomization: string): Promise<string> {
    return (await this.kubectl(['apply', '--server-side', '-k', kustomization])).stdout;
  }

  /** Stops pods (gracefully), the node, the proxy and the control plane, and removes the network. */
  async stop(): Promise<void> {
    if (this.realNode) await Cluster.#stopRealNode(this.plane, this.realNode);
    await this.agent?.stop().catch(() => undefined);
    await this.proxy?.stop().catch(() => undefined);
    for (const client of this.#clients) await client.close().catch(() => undefined);
    await this.plane.stop();
    await this.network.tearDown();
  }
}
