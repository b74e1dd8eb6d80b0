import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GuardedProcess } from '../process/guarded.ts';
import { resolveImage, type ImageConfig } from './images.ts';
import type { KubeClient, KubeObject } from './kube-client.ts';
import type { PodNetwork } from './pod-network.ts';
import { probeOnce, type ContainerPort, type ProbeSpec } from './probe.ts';
import { ContainerProber } from './prober.ts';
import { restartBackoffMs } from './restart-backoff.ts';
import { processTreeUsage, type ProcessUsage } from './process-usage.ts';

/* The parts of core/v1 Pod the node reads. */
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; configMapKeyRef?: { name: string; key: string; optional?: boolean }; secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
/** envFrom: every key of a ConfigMap or Secret as a variable, under an optional prefix. */
interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}
interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}
interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  ports?: ContainerPort[];
  volumeMounts?: VolumeMount[];
  startupProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
  livenessProbe?: ProbeSpec;
  securityContext?: { runAsUser?: number; runAsGroup?: number };
}
interface KeyToPath {
  key: string;
  path: string;
}
interface ProjectedSource {
  serviceAccountToken?: { path: string; expirationSeconds?: number; audience?: string };
  configMap?: { name: string; items?: KeyToPath[] };
  downwardAPI?: { items: { path: string; fieldRef?: { fieldPath: string } }[] };
  secret?: { name: string; items?: KeyToPath[] };
}
interface Volume {
  name: string;
  emptyDir?: object;
  configMap?: { name: string; items?: KeyToPath[]; optional?: boolean };
  secret?: { secretName: string; items?: KeyToPath[]; optional?: boolean };
  projected?: { sources: ProjectedSource[] };
}
export interface PodObject extends KubeObject {
  spec: {
    nodeName?: string;
    containers: ContainerSpec[];
    volumes?: Volume[];
    restartPolicy?: 'Always' | 'OnFailure' | 'Never';
    terminationGracePeriodSeconds?: number;
    serviceAccountName?: string;
    hostname?: string;
    subdomain?: string;
    securityContext?: { runAsUser?: number; runAsGroup?: number };
  };
  status?: Record<string, unknown>;
}

export interface NodeContext {
  nodeName: string;
  nodeIp: string;
  client: KubeClient;
  network: PodNetwork;
  podsDir: string;
  repoRoot: string;
  apiserver: { serviceHost: string; servicePort: number };
  /** The current Service name → ClusterIP lines for the pods' /etc/hosts. */
  hostsEntries: () => string;
  /** Mount points this node had to create on the host, removed at shutdown. */
  createdMountPoints: Set<string>;
  log: (line: string) => void;
}

interface ContainerState {
  spec: ContainerSpec;
  image: ImageConfig;
  process?: GuardedProcess;
  startedAt?: string;
  restartCount: number;
  started: boolean;
  ready: boolean;
  lastTerminated?: { exitCode: number; signal?: number; reason: string; startedAt?: string; finishedAt: string };
  waiting?: { reason: string; message?: string };
  /** The restart back-off's timer. */
  timers: NodeJS.Timeout[];
  prober?: ContainerProber;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * One pod on the node agent: its network namespace, volumes, containers as guarded processes
 * (each in its own mount namespace, as the pod's user), probes at the spec's periods, the status a
 * kubelet reports, container restarts per restartPolicy, and graceful termination on deletion.
 */
export class PodRunner {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  pod: PodObject;
  ip = '';
  netns = '';
  readonly #node: NodeContext;
  readonly #containers: ContainerState[] = [];
  readonly #dir: string;
  #startTime = now();
  #terminating: Promise<void> | undefined;
  #statusQueued = false;
  #statusChain: Promise<void> = Promise.resolve();

  constructor(pod: PodObject, node: NodeContext) {
    this.pod = pod;
    this.uid = pod.metadata.uid ?? '';
    this.namespace = pod.metadata.namespace ?? 'default';
    this.name = pod.metadata.name;
    this.#node = node;
    this.#dir = join(node.podsDir, `${this.namespace}_${this.name}_${this.uid}`);
  }

  get terminating(): boolean {
    return this.#terminating !== undefined;
  }

  async start(): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    // The pod's user must reach its volumes and logs below the node's directory.
    await chmod(this.#dir, 0o755);
    const { netns, ip } = await this.#node.network.addPod(this.uid);
    this.netns = netns;
    this.ip = ip;
    await this.#writeHosts();
    await writeFile(join(this.#dir, 'resolv.conf'), '# no cluster DNS: Service names resolve through /etc/hosts\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    const volumes = await this.#materializeVolumes();
    for (const spec of this.pod.spec.containers) {
      try {
        const image = await resolveImage(spec.image, this.#node.repoRoot);
        this.#containers.push({ spec, image, restartCount: 0, started: false, ready: false, timers: [] });
      } catch (error) {
        this.#containers.push({ spec, image: { entrypoint: [], cmd: [], workingDir: '/', env: {} }, restartCount: 0, started: false, ready: false, timers: [], waiting: { reason: 'ErrImageNeverPull', message: (error as Error).message } });
      }
    }
    for (const container of this.#containers) if (!container.waiting) await this.#startContainer(container, volumes);
    this.#queueStatus();
  }

  /** The hosts file every container of the pod sees: itself, then every Service by its DNS names. */
  async #writeHosts(): Promise<void> {
    const hostname = this.pod.spec.hostname ?? this.name;
    // Rewritten in place (same inode), so running containers, which bind-mount it, see new Services.
    await writeFile(join(this.#dir, 'hosts'), `127.0.0.1\tlocalhost\n::1\tlocalhost\n${this.ip}\t${hostname}\n${this.#node.hostsEntries()}`);
  }

  async refreshHosts(): Promise<void> {
    if (this.ip) await this.#writeHosts();
  }

  usage(): Promise<{ container: string; startedAt?: string; usage?: ProcessUsage }[]> {
    return Promise.all(
      this.#containers.map(async (container) => ({
        container: container.spec.name,
        startedAt: container.startedAt,
        usage: container.process?.childPid && container.process.running ? await processTreeUsage(container.process.childPid) : undefined,
      })),
    );
  }

  async #materializeVolumes(): Promise<Map<string, string>> {
    const paths = new Map<string, string>();
    for (const volume of this.pod.spec.volumes ?? []) {
      const dir = join(this.#dir, 'volumes', volume.name);
      await mkdir(dir, { recursive: true });
      paths.set(volume.name, dir);
      if (volume.emptyDir) {
        // kubelet creates emptyDirs world-writable: the pod's user owns its scratch space.
        await chmod(dir, 0o777);
      } else if (volume.configMap) {
        await this.#writeKeys(dir, await this.#read('configmaps', volume.configMap.name, volume.configMap.optional), volume.configMap.items);
      } else if (volume.secret) {
        await this.#writeKeys(dir, await this.#read('secrets', volume.secret.secretName, volume.secret.optional, true), volume.secret.items);
      } else if (volume.projected) {
        for (const source of volume.projected.sources) {
          if (source.serviceAccountToken) await this.#writeFile(dir, source.serviceAccountToken.path, await this.#token(source.serviceAccountToken));
          if (source.configMap) await this.#writeKeys(dir, await this.#read('configmaps', source.configMap.name), source.configMap.items);
          if (source.secret) await this.#writeKeys(dir, await this.#read('secrets', source.secret.name, false, true), source.secret.items);
          for (const item of source.downwardAPI?.items ?? []) if (item.fieldRef) await this.#writeFile(dir, item.path, this.#field(item.fieldRef.fieldPath));
        }
      } else {
        throw new Error(`volume ${volume.name}: only emptyDir, configMap, secret and projected volumes are supported by the node agent`);
      }
    }
    return paths;
  }

  async #read(resource: 'configmaps' | 'secrets', name: string, optional = false, base64 = false): Promise<Record<string, string>> {
    try {
      const object = await this.#node.client.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${this.namespace}/${resource}/${name}`);
      const data = object.data ?? {};
      return base64 ? Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')])) : data;
    } catch (error) {
      if (optional) return {};
      throw error;
    }
  }

  async #writeKeys(dir: string, data: Record<string, string>, items?: KeyToPath[]): Promise<void> {
    const selected = items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const { key, path } of selected) await this.#writeFile(dir, path, data[key] ?? '');
  }

  async #writeFile(dir: string, path: string, content: string): Promise<void> {
    const file = join(dir, path);
    await mkdir(join(file, '..'), { recursive: true });
    // defaultMode 0644, as kubelet writes volume files by default.
    await writeFile(file, content, { mode: 0o644 });
  }

  /** A bound service-account token for this pod (TokenRequest), as kubelet projects it. */
  async #token(source: { expirationSeconds?: number; audience?: string }): Promise<string> {
    const serviceAccount = this.pod.spec.serviceAccountName ?? 'default';
    const request = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: source.audience ? [source.audience] : [], expirationSeconds: source.expirationSeconds ?? 3607, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: this.name, uid: this.uid } },
    };
    const response = await this.#node.client.call<{ status: { token: string } }>('POST', `/api/v1/namespaces/${this.namespace}/serviceaccounts/${serviceAccount}/token`, request);
    return response.status.token;
  }

  #field(fieldPath: string): string {
    const labels = this.pod.metadata.labels ?? {};
    const annotations = this.pod.metadata.annotations ?? {};
    const label = /^metadata\.labels\['(.+)'\]$/.exec(fieldPath);
    if (label?.[1]) return labels[label[1]] ?? '';
    const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(fieldPath);
    if (annotation?.[1]) return annotations[annotation[1]] ?? '';
    const fields: Record<string, string> = {
      'metadata.name': this.name,
      'metadata.namespace': this.namespace,
      'metadata.uid': this.uid,
      'spec.nodeName': this.#node.nodeName,
      'spec.serviceAccountName': this.pod.spec.serviceAccountName ?? 'default',
      'status.podIP': this.ip,
      'status.podIPs': this.ip,
      'status.hostIP': this.#node.nodeIp,
      'status.hostIPs': this.#node.nodeIp,
    };
    const value = fields[fieldPath];
    if (value === undefined) throw new Error(`fieldRef ${fieldPath} is not supported`);
    return value;
  }

  async #env(container: ContainerState): Promise<Record<string, string>> {
    const env: Record<string, string> = {
      ...container.image.env,
      HOSTNAME: this.pod.spec.hostname ?? this.name,
      KUBERNETES_SERVICE_HOST: this.#node.apiserver.serviceHost,
      KUBERNETES_SERVICE_PORT: String(this.#node.apiserver.servicePort),
      KUBERNETES_SERVICE_PORT_HTTPS: String(this.#node.apiserver.servicePort),
      KUBERNETES_PORT: `tcp://${this.#node.apiserver.serviceHost}:${this.#node.apiserver.servicePort}`,
    };
    // As kubelet: envFrom first, in order (a later source wins), then env, which wins over them all.
    // kubelet skips keys that are not valid variable names; so does this.
    for (const source of container.spec.envFrom ?? []) {
      const data = source.configMapRef
        ? await this.#read('configmaps', source.configMapRef.name, source.configMapRef.optional)
        : source.secretRef
          ? await this.#read('secrets', source.secretRef.name, source.secretRef.optional, true)
          : {};
      for (const [key, value] of Object.entries(data)) {
        const name = `${source.prefix ?? ''}${key}`;
        if (/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) env[name] = value;
      }
    }
    for (const variable of container.spec.env ?? []) {
      const from = variable.valueFrom;
      if (from?.fieldRef) env[variable.name] = this.#field(from.fieldRef.fieldPath);
      else if (from?.configMapKeyRef) env[variable.name] = (await this.#read('configmaps', from.configMapKeyRef.name, from.configMapKeyRef.optional))[from.configMapKeyRef.key] ?? '';
      else if (from?.secretKeyRef) env[variable.name] = (await this.#read('secrets', from.secretKeyRef.name, from.secretKeyRef.optional, true))[from.secretKeyRef.key] ?? '';
      // $(VAR) references to earlier variables, as kubelet expands them.
      else env[variable.name] = (variable.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string) => env[name] ?? match);
    }
    return env;
  }

  async #startContainer(container: ContainerState, volumes: Map<string, string>): Promise<void> {
    const spec = container.spec;
    const argv = [...(spec.command ?? container.image.entrypoint), ...(spec.command ? (spec.args ?? []) : (spec.args ?? container.image.cmd))];
    const user = {
      uid: spec.securityContext?.runAsUser ?? this.pod.spec.securityContext?.runAsUser ?? container.image.user?.uid ?? 0,
      gid: spec.securityContext?.runAsGroup ?? this.pod.spec.securityContext?.runAsGroup ?? container.image.user?.gid ?? 0,
    };
    const mounts: string[] = [];
    const bind = async (source: string, target: string, readOnly: boolean, isFile = false) => {
      await this.#ensureMountPoint(target, isFile);
      mounts.push(`mount --bind ${quote(source)} ${quote(target)}`);
      if (readOnly) mounts.push(`mount -o remount,bind,ro ${quote(target)}`);
    };
    await bind(join(this.#dir, 'hosts'), '/etc/hosts', true, true);
    await bind(join(this.#dir, 'resolv.conf'), '/etc/resolv.conf', true, true);
    // A mount over an ancestor of the pod's directory (an emptyDir at /tmp, with the node's files
    // under /tmp) would hide the sources of the mounts after it: those go last.
    const shadowsSources = (mount: VolumeMount) => `${this.#dir}/`.startsWith(`${mount.mountPath.replace(/\/$/, '')}/`);
    const ordered = [...(spec.volumeMounts ?? [])].sort((a, b) => Number(shadowsSources(a)) - Number(shadowsSources(b)));
    for (const mount of ordered) {
      const source = volumes.get(mount.name);
      if (!source) throw new Error(`volumeMount ${mount.name} names no volume`);
      await bind(mount.subPath ? join(source, mount.subPath) : source, mount.mountPath, mount.readOnly ?? false);
    }
    const workingDir = spec.workingDir ?? container.image.workingDir;
    // Each container in its own mount namespace (private propagation: its binds never reach the
    // host), inside the pod's network namespace, then as the pod's user without capabilities.
    const script = [...mounts, `cd ${quote(workingDir)}`, `exec setpriv --reuid=${user.uid} --regid=${user.gid} --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- "$@"`].join(' && ');
    const env = await this.#env(container);
    const logFile = createWriteStream(join(this.#dir, `${spec.name}.log`), { flags: 'a' });
    const grace = (this.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    const child = new GuardedProcess('nsenter', [`--net=/run/netns/${this.netns}`, '--', 'unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'sh', ...argv], { env, graceMs: grace, stdout: 'pipe', stderr: 'pipe' });
    child.guard.stdout?.pipe(logFile, { end: false });
    child.guard.stderr?.pipe(logFile, { end: false });
    container.process = child;
    container.started = false;
    container.ready = false;
    container.waiting = undefined;
    const startedAt = now();
    container.startedAt = startedAt;
    void child.exited.then(({ code, signal }) => {
      logFile.end();
      void this.#onExit(container, child, code, signal, startedAt, volumes);
    });
    try {
      await child.started;
    } catch {
      // Reported through the exit handler.
    }
    this.#startProbes(container);
  }

  async #ensureMountPoint(target: string, isFile: boolean): Promise<void> {
    const { stat } = await import('node:fs/promises');
    const exists = await stat(target).then(() => true, () => false);
    if (exists) return;
    // A container image would carry these directories; on this node they are created on the host,
    // empty, and removed again when the node agent stops.
    let missing = target;
    const chain: string[] = [];
    while (!(await stat(missing).then(() => true, () => false))) {
      chain.unshift(missing);
      missing = join(missing, '..');
    }
    for (const path of chain) this.#node.createdMountPoints.add(path);
    if (isFile) {
      await mkdir(join(target, '..'), { recursive: true });
      await writeFile(target, '');
    } else {
      await mkdir(target, { recursive: true });
    }
  }

  /** kubelet's prober for this container instance; a failed startup or liveness probe restarts it through its grace period. */
  #startProbes(container: ContainerState): void {
    container.prober?.stop();
    const spec = container.spec;
    const target = () => ({ ip: this.ip, ports: spec.ports ?? [], pid: container.process?.childPid });
    container.prober = new ContainerProber({ startup: spec.startupProbe, readiness: spec.readinessProbe, liveness: spec.livenessProbe }, (probe) => probeOnce(probe, target()), {
      started: () => {
        container.started = true;
        this.#queueStatus();
      },
      ready: (ready) => {
        container.ready = ready;
        this.#queueStatus();
      },
      unhealthy: (kind, failures) => {
        const probe = kind === 'startup' ? spec.startupProbe : spec.livenessProbe;
        const graceSeconds = probe?.terminationGracePeriodSeconds ?? this.pod.spec.terminationGracePeriodSeconds ?? 30;
        this.#node.log(`${this.namespace}/${this.name} ${spec.name}: ${kind} probe failed ${failures}×, restarting (grace ${graceSeconds} s)`);
        void container.process?.stop(graceSeconds * 1000);
      },
    });
  }

  async #onExit(container: ContainerState, child: GuardedProcess, code: number | null, signal: NodeJS.Signals | null, startedAt: string, volumes: Map<string, string>): Promise<void> {
    if (container.process !== child) return;
    container.prober?.stop();
    for (const timer of container.timers) clearTimeout(timer);
    container.timers = [];
    container.ready = false;
    container.started = false;
    const exitCode = code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1);
    container.lastTerminated = { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: now() };
    container.process = undefined;
    if (this.terminating) return;
    const policy = this.pod.spec.restartPolicy ?? 'Always';
    const restart = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
    const delay = restartBackoffMs(container.restartCount + 1);
    this.#node.log(`${this.namespace}/${this.name} ${container.spec.name} exited ${exitCode}${restart ? `, restarting in ${delay} ms` : ''}`);
    if (!restart) {
      this.#queueStatus();
      return;
    }
    container.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting failed container` };
    this.#queueStatus();
    container.timers.push(
      setTimeout(() => {
        if (this.terminating) return;
        container.restartCount++;
        void this.#startContainer(container, volumes).then(() => this.#queueStatus());
      }, delay),
    );
  }

  /** Coalesces status writes: at most one in flight and one queued, always with the newest state. */
  #queueStatus(): void {
    if (this.#statusQueued) return;
    this.#statusQueued = true;
    this.#statusChain = this.#statusChain.then(async () => {
      this.#statusQueued = false;
      if (this.terminating && this.#containers.every((container) => !container.process)) return;
      try {
        await this.#node.client.call('PATCH', `/api/v1/namespaces/${this.namespace}/pods/${this.name}/status`, { status: this.status() });
      } catch (error) {
        this.#node.log(`${this.namespace}/${this.name}: status update failed: ${(error as Error).message}`);
      }
    });
  }

  status(): Record<string, unknown> {
    const allReady = this.#containers.length > 0 && this.#containers.every((container) => container.ready);
    const transition = now();
    const condition = (type: string, status: boolean) => ({ type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: this.#transitions(type, status, transition) });
    const running = this.#containers.some((container) => container.process?.running);
    return {
      phase: running || this.#containers.some((container) => container.waiting) ? 'Running' : 'Pending',
      hostIP: this.#node.nodeIp,
      hostIPs: [{ ip: this.#node.nodeIp }],
      podIP: this.ip,
      podIPs: [{ ip: this.ip }],
      startTime: this.#startTime,
      conditions: [condition('PodReadyToStartContainers', Boolean(this.netns)), condition('Initialized', true), condition('Ready', allReady), condition('ContainersReady', allReady), condition('PodScheduled', true)],
      containerStatuses: this.#containers.map((container) => ({
        name: container.spec.name,
        image: container.spec.image,
        imageID: '',
        containerID: container.process?.childPid ? `process://${container.process.childPid}` : undefined,
        ready: container.ready,
        started: container.started,
        restartCount: container.restartCount,
        state: container.process?.running ? { running: { startedAt: container.startedAt } } : container.waiting ? { waiting: container.waiting } : container.lastTerminated ? { terminated: container.lastTerminated } : { waiting: { reason: 'ContainerCreating' } },
        lastState: container.lastTerminated && container.process?.running ? { terminated: container.lastTerminated } : {},
      })),
    };
  }

  readonly #conditionSince = new Map<string, { status: boolean; since: string }>();
  #transitions(type: string, status: boolean, at: string): string {
    const previous = this.#conditionSince.get(type);
    if (previous && previous.status === status) return previous.since;
    this.#conditionSince.set(type, { status, since: at });
    return at;
  }

  /**
   * kubelet's termination: SIGTERM to every container, SIGKILL after the grace period the deletion
   * carries, then the pod's network and files are removed and the API object is finally deleted.
   */
  terminate(graceSeconds: number): Promise<void> {
    this.#terminating ??= (async () => {
      for (const container of this.#containers) {
        for (const timer of container.timers) clearTimeout(timer);
        container.prober?.podDeleting();
      }
      await Promise.all(this.#containers.map((container) => container.process?.stop(graceSeconds * 1000)));
      await this.#statusChain;
      await this.#node.network.removePod(this.uid);
      await rm(this.#dir, { recursive: true, force: true });
    })();
    return this.#terminating;
  }
}

function quote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
