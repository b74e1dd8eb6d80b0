import { execFile } from 'node:child_process';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { until } from '../lab/net.ts';
import { binaryPath } from './binaries.ts';
import { ControlPlane, type ControlPlaneOptions } from './control-plane.ts';
import { KubeClient } from './kube-client.ts';
import { NodeAgent } from './node-agent.ts';
import { PodNetwork } from './pod-network.ts';
import { ServiceProxy } from './service-proxy.ts';

const run = promisify(execFile);

export const NODE_NAME = 'podscale-node';

export interface ClusterOptions {
  /** Where the kubeconfig, services.json, PKI, etcd data, logs and pod files go. */
  dir: string;
  /** The repository whose Dockerfile and build podscale's images come from. */
  repoRoot: string;
  hpa?: ControlPlaneOptions['hpa'];
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

/**
 * A single-node Kubernetes cluster on this machine: the real control plane (see ControlPlane), the
 * node agent in place of a kubelet, and the Service proxy in place of kube-proxy.
 */
export class Cluster {
  readonly dir: string;
  readonly plane: ControlPlane;
  readonly network: PodNetwork;
  readonly agent: NodeAgent;
  readonly proxy: ServiceProxy;
  readonly servicesFile: string;
  readonly #clients: KubeClient[];

  private constructor(dir: string, plane: ControlPlane, network: PodNetwork, agent: NodeAgent, proxy: ServiceProxy, clients: KubeClient[]) {
    this.dir = dir;
    this.plane = plane;
    this.network = network;
    this.agent = agent;
    this.proxy = proxy;
    this.servicesFile = join(dir, 'services.json');
    this.#clients = clients;
  }

  get kubeconfig(): string {
    return this.plane.adminKubeconfig;
  }

  /** Why this machine cannot run the cluster, or undefined when it can. */
  static async unavailable(): Promise<string | undefined> {
    return PodNetwork.available();
  }


  static async start(options: ClusterOptions): Promise<Cluster> {
    const log = options.log ?? (() => undefined);
    const dir = resolve(options.dir);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    // Pods run as their own users and must traverse to their volumes under this directory.
    await chmod(dir, 0o755);
    const network = await PodNetwork.claim();
    log(`pod network: bridge ${network.bridge}, pods ${network.podCidr}, Services ${network.serviceCidr} (blackholed)`);
    options.onNetwork?.(network);
    let plane: ControlPlane | undefined;
    const clients: KubeClient[] = [];
    let agent: NodeAgent | undefined;
    let proxy: ServiceProxy | undefined;
    try {
      plane = await ControlPlane.start({ dir, nodeName: NODE_NAME, nodeIps: [network.nodeIp], serviceCidr: network.serviceCidr, kubernetesServiceIp: network.kubernetesServiceIp, hpa: options.hpa, log });
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
        log,
      });
      const nodeAgent = agent;
      onServices = () => void nodeAgent.refreshHosts();
      await mkdir(join(dir, 'pods'), { recursive: true, mode: 0o755 });
      await proxy.start();
      await agent.start();
      const cluster = new Cluster(dir, plane, network, agent, proxy, clients);
      await until(async () => (await cluster.kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}/{.spec.taints}'])).stdout === 'True/', { timeoutMs: 60_000, intervalMs: 250, what: `node ${NODE_NAME} Ready and untainted` });
      log(`node ${NODE_NAME} Ready`);
      return cluster;
    } catch (error) {
      await agent?.stop().catch(() => undefined);
      await proxy?.stop().catch(() => undefined);
      for (const client of clients) await client.close().catch(() => undefined);
      await plane?.stop().catch(() => undefined);
      await network.tearDown();
      throw error;
    }
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
    await this.agent.stop().catch(() => undefined);
    await this.proxy.stop().catch(() => undefined);
    for (const client of this.#clients) await client.close().catch(() => undefined);
    await this.plane.stop();
    await this.network.tearDown();
  }
}
