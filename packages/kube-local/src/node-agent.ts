import { readFile, rm, rmdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { once } from 'node:events';
import { cpus, release, totalmem } from 'node:os';
import { KubeError, type KubeClient } from './kube-client.ts';
import { PodRunner, type NodeContext } from './pod-runner.ts';
import type { PodObject } from './pod-spec.ts';
import { nodeUsage } from './process-usage.ts';
import type { CertFiles } from './pki.ts';
import { KUBERNETES_VERSION } from './binaries.ts';

export const KUBELET_PORT = 10250;
const LEASE_DURATION_SECONDS = 40;
const LEASE_RENEW_MS = 10_000;
const NODE_STATUS_MS = 60_000;

export interface NodeAgentOptions extends Omit<NodeContext, 'createdMountPoints'> {
  /** Cluster-admin access, for the TokenReviews and SubjectAccessReviews that guard /metrics/resource. */
  reviewer: KubeClient;
  servingCert: CertFiles;
  /** The release the node reports, as kubelet reports its own (default the pinned one). */
  kubeletVersion?: string;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const microNow = () => new Date().toISOString().replace('Z', '000Z');

/**
 * The node: registers itself as a Node with the node's own credentials (Node authorizer and
 * NodeRestriction apply), renews its Lease, runs every pod bound to it (see PodRunner), and serves
 * kubelet's resource-metrics endpoint so the real metrics-server can scrape it.
 */
export class NodeAgent {
  readonly #options: NodeAgentOptions;
  readonly #context: NodeContext;
  readonly #runners = new Map<string, PodRunner>();
  readonly #abort = new AbortController();
  readonly #timers: NodeJS.Timeout[] = [];
  #server: Server | undefined;
  #watching: Promise<void> | undefined;
  readonly #reviews = new Map<string, { allowed: boolean; until: number }>();

  constructor(options: NodeAgentOptions) {
    this.#options = options;
    this.#context = { ...options, createdMountPoints: new Set() };
  }

  get runners(): ReadonlyMap<string, PodRunner> {
    return this.#runners;
  }

  async start(): Promise<void> {
    await this.#register();
    await this.#renewLease();
    this.#timers.push(setInterval(() => void this.#renewLease().catch((error: Error) => this.#options.log(`lease renewal failed: ${error.message}`)), LEASE_RENEW_MS));
    this.#timers.push(setInterval(() => void this.#reportStatus().catch((error: Error) => this.#options.log(`node status failed: ${error.message}`)), NODE_STATUS_MS));
    await this.#serveMetrics();
    this.#watching = this.#options.client.watch('/api/v1/pods', { fieldSelector: `spec.nodeName=${this.#options.nodeName}` }, (type, pods) => this.#onPods(type, pods as PodObject[]), this.#abort.signal);
  }

  /** New Services: every running pod's /etc/hosts is rewritten. */
  async refreshHosts(): Promise<void> {
    await Promise.all([...this.#runners.values()].map((runner) => runner.refreshHosts()));
  }

  #nodeObject(): Record<string, unknown> {
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: this.#options.nodeName, labels: { 'kubernetes.io/hostname': this.#options.nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'podscale.dev/node-agent': 'true' } },
      spec: {},
    };
  }

  #nodeStatus(): Record<string, unknown> {
    const heartbeat = now();
    const capacity = { cpu: String(cpus().length), memory: `${Math.floor(totalmem() / 1024)}Ki`, pods: '110', 'ephemeral-storage': '100Gi' };
    const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: heartbeat, lastTransitionTime: this.#since });
    return {
      capacity,
      allocatable: capacity,
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'node agent has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'node agent has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'node agent has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'podscale node agent is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: this.#options.nodeIp },
        { type: 'Hostname', address: this.#options.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: release(),
        osImage: 'podscale node agent (processes in per-pod network namespaces)',
        containerRuntimeVersion: 'podscale-node-agent://0.1.0',
        kubeletVersion: this.#options.kubeletVersion ?? KUBERNETES_VERSION,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    };
  }

  readonly #since = now();

  async #register(): Promise<void> {
    const client = this.#options.client;
    try {
      await client.call('POST', '/api/v1/nodes', this.#nodeObject());
    } catch (error) {
      // 409: the node is registered already (an earlier run of this agent).
      if (!(error instanceof KubeError && error.status === 409)) throw error;
    }
    await this.#reportStatus();
  }

  async #reportStatus(): Promise<void> {
    await this.#options.client.call('PATCH', `/api/v1/nodes/${this.#options.nodeName}/status`, { status: this.#nodeStatus() });
  }

  async #renewLease(): Promise<void> {
    const client = this.#options.client;
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.#options.nodeName}`;
    const spec = { holderIdentity: this.#options.nodeName, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microNow() };
    try {
      await client.call('PATCH', path, { spec });
    } catch (error) {
      // 404: the first renewal creates the Lease.
      if (!(error instanceof KubeError && error.status === 404)) throw error;
      await client.call('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.#options.nodeName, namespace: 'kube-node-lease' }, spec });
    }
  }

  #onPods(type: 'SYNC' | 'ADDED' | 'MODIFIED' | 'DELETED', pods: PodObject[]): void {
    if (type === 'SYNC') {
      const present = new Set(pods.map((pod) => pod.metadata.uid));
      for (const [uid, runner] of this.#runners) if (!present.has(uid)) void this.#finish(runner, 0, false);
    }
    for (const pod of pods) {
      const uid = pod.metadata.uid ?? '';
      const runner = this.#runners.get(uid);
      if (type === 'DELETED') {
        // Force-deleted (grace 0) or finished: nothing to wait for.
        if (runner) void this.#finish(runner, 0, false);
        continue;
      }
      if (pod.metadata.deletionTimestamp) {
        if (runner) void this.#finish(runner, pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30, true);
        else void this.#deleteObject(pod);
        continue;
      }
      if (runner) {
        runner.pod = pod;
        continue;
      }
      const phase = (pod.status as { phase?: string } | undefined)?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const created = new PodRunner(pod, this.#context);
      this.#runners.set(uid, created);
      this.#options.log(`pod ${created.namespace}/${created.name}: starting`);
      created.start().then(
        () => this.#options.log(`pod ${created.namespace}/${created.name}: started at ${created.ip}`),
        (error: Error) => this.#options.log(`pod ${created.namespace}/${created.name}: cannot start: ${error.message}`),
      );
    }
  }

  async #finish(runner: PodRunner, graceSeconds: number, deleteObject: boolean): Promise<void> {
    if (runner.terminating) return;
    this.#options.log(`pod ${runner.namespace}/${runner.name}: terminating (grace ${graceSeconds} s)`);
    await runner.terminate(graceSeconds);
    this.#runners.delete(runner.uid);
    if (deleteObject) await this.#deleteObject(runner.pod);
    this.#options.log(`pod ${runner.namespace}/${runner.name}: gone`);
  }

  async #deleteObject(pod: PodObject): Promise<void> {
    await this.#options.client
      .call('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } })
      .catch((error: Error) => {
        // 404: gone already; 409: the precondition failed, a pod of that name with another uid.
        if (!(error instanceof KubeError && (error.status === 404 || error.status === 409))) this.#options.log(`delete ${pod.metadata.name} failed: ${error.message}`);
      });
  }

  /** kubelet's /metrics/resource, guarded like kubelet's webhook authn/authz (nodes/metrics get). */
  async #serveMetrics(): Promise<void> {
    const [cert, key] = await Promise.all([readFile(this.#options.servingCert.cert), readFile(this.#options.servingCert.key)]);
    const server = createServer({ cert, key }, (request, response) => {
      void (async () => {
        const allowed = await this.#authorized(request.headers.authorization);
        if (allowed !== true) {
          response.writeHead(allowed === 'unauthenticated' ? 401 : 403).end(allowed === 'unauthenticated' ? 'Unauthorized' : 'Forbidden');
          return;
        }
        if (request.url?.split('?')[0] === '/metrics/resource') {
          response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(await this.resourceMetrics());
        } else if (request.url === '/healthz') {
          response.writeHead(200).end('ok');
        } else {
          response.writeHead(404).end('not found');
        }
      })().catch((error: Error) => {
        response.writeHead(500).end(error.message);
      });
    });
    server.listen(KUBELET_PORT, this.#options.nodeIp);
    await once(server, 'listening');
    this.#server = server;
  }

  async #authorized(authorization: string | undefined): Promise<true | 'unauthenticated' | 'forbidden'> {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!token) return 'unauthenticated';
    const cached = this.#reviews.get(token);
    if (cached && cached.until > Date.now()) return cached.allowed ? true : 'forbidden';
    const reviewer = this.#options.reviewer;
    const review = await reviewer.call<{ status: { authenticated?: boolean; user?: { username: string; groups?: string[]; uid?: string; extra?: Record<string, string[]> } } }>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
    if (!review.status.authenticated || !review.status.user) return 'unauthenticated';
    const user = review.status.user;
    const access = await reviewer.call<{ status: { allowed: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: user.username, groups: user.groups, uid: user.uid, extra: user.extra, resourceAttributes: { verb: 'get', resource: 'nodes', subresource: 'metrics', name: this.#options.nodeName } },
    });
    this.#reviews.set(token, { allowed: access.status.allowed, until: Date.now() + 60_000 });
    return access.status.allowed ? true : 'forbidden';
  }

  /** The resource metrics metrics-server reads (names and labels as kubelet's /metrics/resource). */
  async resourceMetrics(): Promise<string> {
    const timestamp = Date.now();
    const lines: string[] = [];
    const node = await nodeUsage();
    lines.push('# TYPE node_cpu_usage_seconds_total counter', `node_cpu_usage_seconds_total ${node.cpuSeconds} ${timestamp}`);
    lines.push('# TYPE node_memory_working_set_bytes gauge', `node_memory_working_set_bytes ${node.memoryBytes} ${timestamp}`);
    const containers: string[] = [];
    const memory: string[] = [];
    const starts: string[] = [];
    const podCpu: string[] = [];
    const podMemory: string[] = [];
    for (const runner of this.#runners.values()) {
      if (runner.terminating) continue;
      let cpu = 0;
      let bytes = 0;
      let any = false;
      for (const { container, usage, startedAt } of await runner.usage()) {
        if (!usage || !startedAt) continue;
        any = true;
        const labels = `container="${container}",namespace="${runner.namespace}",pod="${runner.name}"`;
        containers.push(`container_cpu_usage_seconds_total{${labels}} ${usage.cpuSeconds} ${timestamp}`);
        memory.push(`container_memory_working_set_bytes{${labels}} ${usage.memoryBytes} ${timestamp}`);
        starts.push(`container_start_time_seconds{${labels}} ${Date.parse(startedAt) / 1000} ${timestamp}`);
        cpu += usage.cpuSeconds;
        bytes += usage.memoryBytes;
      }
      if (!any) continue;
      podCpu.push(`pod_cpu_usage_seconds_total{namespace="${runner.namespace}",pod="${runner.name}"} ${cpu} ${timestamp}`);
      podMemory.push(`pod_memory_working_set_bytes{namespace="${runner.namespace}",pod="${runner.name}"} ${bytes} ${timestamp}`);
    }
    lines.push('# TYPE container_cpu_usage_seconds_total counter', ...containers);
    lines.push('# TYPE container_memory_working_set_bytes gauge', ...memory);
    lines.push('# TYPE container_start_time_seconds gauge', ...starts);
    lines.push('# TYPE pod_cpu_usage_seconds_total counter', ...podCpu);
    lines.push('# TYPE pod_memory_working_set_bytes gauge', ...podMemory);
    lines.push('# TYPE scrape_error gauge', 'scrape_error 0');
    return `${lines.join('\n')}\n`;
  }

  /** Terminates every pod (with its grace period), then stops serving and removes what it created. */
  async stop(): Promise<void> {
    this.#abort.abort();
    for (const timer of this.#timers) clearInterval(timer);
    await this.#watching?.catch(() => undefined);
    await Promise.all([...this.#runners.values()].map((runner) => runner.terminate(runner.pod.spec.terminationGracePeriodSeconds ?? 30)));
    this.#runners.clear();
    if (this.#server) {
      this.#server.closeAllConnections();
      this.#server.close();
    }
    // Deepest first, and only if still empty: never remove something that is not ours.
    for (const path of [...this.#context.createdMountPoints].sort((a, b) => b.length - a.length)) {
      await rmdir(path).catch(() => rm(path, { force: true }).catch(() => undefined));
    }
  }
}
