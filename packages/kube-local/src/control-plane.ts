import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { freePort, until } from '@podscale/process/net.ts';
import { binaryPath, controlPlaneBinary } from './binaries.ts';
import { Component } from '@podscale/process/components.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { createPki, type ClusterPki } from './pki.ts';

const DEFAULT_SERVICE_CIDR = '10.96.0.0/16';

export interface ControlPlaneOptions {
  dir: string;
  nodeName: string;
  nodeIps: string[];
  /** The Service range, and its first address (the `kubernetes` Service); default 10.96.0.0/16. */
  serviceCidr?: string;
  kubernetesServiceIp?: string;
  /** kube-controller-manager's HPA flags; unset ones keep upstream's defaults. */
  hpa?: {
    syncPeriod?: string;
    downscaleStabilization?: string;
    initialReadinessDelay?: string;
    cpuInitializationPeriod?: string;
    tolerance?: number;
  };
  /**
   * A real node's Services are kube-proxy rules, which the machine itself (where the apiserver
   * runs, on loopback) cannot use: the Service range is blackholed here. The aggregator then dials
   * an APIService's endpoints (pod IPs, routed to the node's bridge) instead of its ClusterIP.
   */
  aggregatorRouting?: boolean;
  /** A supported release (tools/cluster/kubernetes-minors); default the pinned KUBERNETES_VERSION. */
  version?: string;
  /** Only etcd and kube-apiserver: enough to check what an API server accepts, with no controllers acting on it. */
  apiserverOnly?: boolean;
  log?: (line: string) => void;
}

/** The controllers a Deployment + HPA + Service cluster needs, by their names since 1.34. */
const CONTROLLERS = [
  'deployment-controller',
  'replicaset-controller',
  'horizontal-pod-autoscaler-controller',
  'endpointslice-controller',
  'endpoints-controller',
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'disruption-controller',
  'clusterrole-aggregation-controller',
  'pod-garbage-collector-controller',
  // Removes the not-ready taint that TaintNodesByCondition puts on a new Node once it reports Ready.
  'node-lifecycle-controller',
];

/**
 * etcd, kube-apiserver, kube-controller-manager and kube-scheduler as upstream builds them, on
 * loopback, with a fresh PKI: RBAC + Node authorization, the default admission plugins, and the
 * aggregation layer's front-proxy flags so APIServices (the Prometheus Adapter's) work.
 */
export class ControlPlane {
  readonly pki: ClusterPki;
  readonly apiserverUrl: string;
  readonly adminKubeconfig: string;
  readonly components: Component[] = [];
  readonly #adminAgent: Agent;

  private constructor(pki: ClusterPki, apiserverUrl: string, adminKubeconfig: string, adminAgent: Agent) {
    this.pki = pki;
    this.apiserverUrl = apiserverUrl;
    this.adminKubeconfig = adminKubeconfig;
    this.#adminAgent = adminAgent;
  }

  static async start(options: ControlPlaneOptions): Promise<ControlPlane> {
    const log = options.log ?? (() => undefined);
    const logDir = join(options.dir, 'logs');
    const pki = await createPki({ dir: join(options.dir, 'pki'), apiserverIps: ['127.0.0.1', options.kubernetesServiceIp ?? '10.96.0.1'], nodeName: options.nodeName, nodeIps: options.nodeIps });
    const [etcdPort, etcdPeerPort, apiserverPort] = [await freePort(), await freePort(), await freePort()];
    const apiserverUrl = `https://127.0.0.1:${apiserverPort}`;
    const kubeconfig = (name: string, user: string, client: { cert: string; key: string }) => writeKubeconfig(join(options.dir, name), { server: apiserverUrl, caFile: pki.ca.cert, user, client });
    const adminKubeconfig = await kubeconfig('kubeconfig', 'admin', pki.admin);
    const adminAgent = new Agent({ connect: { ca: await readFile(pki.ca.cert), cert: await readFile(pki.admin.cert), key: await readFile(pki.admin.key) } });
    const plane = new ControlPlane(pki, apiserverUrl, adminKubeconfig, adminAgent);
    try {
      const etcdUrl = `http://127.0.0.1:${etcdPort}`;
      plane.components.push(
        await Component.start('etcd', binaryPath('etcd'), [
          `--data-dir=${join(options.dir, 'etcd')}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
          `--initial-cluster=default=http://127.0.0.1:${etcdPeerPort}`,
          // One member on a temp dir: durability across power loss is not the point here.
          '--unsafe-no-fsync',
          '--log-level=warn',
        ], { logDir, supervise: log }),
      );
      await until(async () => (await request(`${etcdUrl}/health`)).statusCode === 200, { timeoutMs: 30_000, what: 'etcd /health' });
      log(`etcd ready on ${etcdUrl}`);

      plane.components.push(
        await Component.start('kube-apiserver', controlPlaneBinary('kube-apiserver', options.version), [
          `--etcd-servers=${etcdUrl}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${apiserverPort}`,
          `--tls-cert-file=${pki.apiserver.cert}`,
          `--tls-private-key-file=${pki.apiserver.key}`,
          `--client-ca-file=${pki.ca.cert}`,
          '--authorization-mode=Node,RBAC',
          // As kubeadm: a node may only modify itself and the pods bound to it.
          '--enable-admission-plugins=NodeRestriction',
          `--service-account-key-file=${pki.serviceAccount.pub}`,
          `--service-account-signing-key-file=${pki.serviceAccount.key}`,
          '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
          `--service-cluster-ip-range=${options.serviceCidr ?? DEFAULT_SERVICE_CIDR}`,
          // The apiserver listens on loopback only, and Endpoints may not hold loopback addresses:
          // the Service proxy routes the `kubernetes` Service to it instead.
          '--endpoint-reconciler-type=none',
          `--kubelet-client-certificate=${pki.apiserverKubeletClient.cert}`,
          `--kubelet-client-key=${pki.apiserverKubeletClient.key}`,
          `--kubelet-certificate-authority=${pki.ca.cert}`,
          // The aggregation layer (custom.metrics.k8s.io, metrics.k8s.io).
          `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
          '--requestheader-allowed-names=front-proxy-client',
          '--requestheader-username-headers=X-Remote-User',
          '--requestheader-group-headers=X-Remote-Group',
          '--requestheader-extra-headers-prefix=X-Remote-Extra-',
          `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
          `--proxy-client-key-file=${pki.frontProxyClient.key}`,
          '--allow-privileged=true',
          ...(options.aggregatorRouting ? ['--enable-aggregator-routing=true'] : []),
          // kubectl logs/exec reach kubelet at the node's address, not its name (no DNS for it here).
          '--kubelet-preferred-address-types=InternalIP,Hostname',
          '--profiling=false',
          '--v=1',
        ], { logDir, supervise: log }),
      );
      await until(async () => (await plane.get('/readyz')).status === 200, { timeoutMs: 60_000, intervalMs: 250, what: 'kube-apiserver /readyz' });
      log(`kube-apiserver ready on ${apiserverUrl}`);
      if (options.apiserverOnly) return plane;

      const hpa = options.hpa ?? {};
      const controllerManagerKubeconfig = await kubeconfig('controller-manager.kubeconfig', 'system:kube-controller-manager', pki.controllerManager);
      plane.components.push(
        await Component.start('kube-controller-manager', controlPlaneBinary('kube-controller-manager', options.version), [
          `--kubeconfig=${controllerManagerKubeconfig}`,
          `--authentication-kubeconfig=${controllerManagerKubeconfig}`,
          `--authorization-kubeconfig=${controllerManagerKubeconfig}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${await freePort()}`,
          `--controllers=${CONTROLLERS.join(',')}`,
          '--use-service-account-credentials=true',
          `--service-account-private-key-file=${pki.serviceAccount.key}`,
          `--root-ca-file=${pki.ca.cert}`,
          `--service-cluster-ip-range=${options.serviceCidr ?? DEFAULT_SERVICE_CIDR}`,
          '--leader-elect=false',
          ...(hpa.syncPeriod ? [`--horizontal-pod-autoscaler-sync-period=${hpa.syncPeriod}`] : []),
          ...(hpa.downscaleStabilization ? [`--horizontal-pod-autoscaler-downscale-stabilization=${hpa.downscaleStabilization}`] : []),
          ...(hpa.initialReadinessDelay ? [`--horizontal-pod-autoscaler-initial-readiness-delay=${hpa.initialReadinessDelay}`] : []),
          ...(hpa.cpuInitializationPeriod ? [`--horizontal-pod-autoscaler-cpu-initialization-period=${hpa.cpuInitializationPeriod}`] : []),
          ...(hpa.tolerance !== undefined ? [`--horizontal-pod-autoscaler-tolerance=${hpa.tolerance}`] : []),
          '--v=1',
        ], { logDir, supervise: log }),
      );
      const schedulerKubeconfig = await kubeconfig('scheduler.kubeconfig', 'system:kube-scheduler', pki.scheduler);
      plane.components.push(
        await Component.start('kube-scheduler', controlPlaneBinary('kube-scheduler', options.version), [
          `--kubeconfig=${schedulerKubeconfig}`,
          `--authentication-kubeconfig=${schedulerKubeconfig}`,
          `--authorization-kubeconfig=${schedulerKubeconfig}`,
          '--bind-address=127.0.0.1',
          `--secure-port=${await freePort()}`,
          '--leader-elect=false',
          '--v=1',
        ], { logDir, supervise: log }),
      );
      log('kube-controller-manager and kube-scheduler started');
    } catch (error) {
      await plane.stop();
      throw error;
    }
    return plane;
  }

  /** A GET as cluster admin; for health checks and raw reads. */
  async get(path: string): Promise<{ status: number; body: string }> {
    const response = await request(`${this.apiserverUrl}${path}`, { dispatcher: this.#adminAgent });
    return { status: response.statusCode, body: await response.body.text() };
  }

  /** Stops the components in reverse order of start (the apiserver before etcd). */
  async stop(): Promise<void> {
    for (const component of [...this.components].reverse()) await component.stop();
    await this.#adminAgent.close();
  }
}
