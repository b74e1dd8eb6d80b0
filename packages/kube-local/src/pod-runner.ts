import { createWriteStream } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GuardedProcess } from '@podscale/process/guarded.ts';
import { resolveImage, type ImageConfig } from './images.ts';
import type { KubeClient } from './kube-client.ts';
import { containerEnv } from './pod-env.ts';
import type { PodNetwork } from './pod-network.ts';
import { PodSources } from './pod-sources.ts';
import type { ContainerSpec, PodObject, VolumeMount } from './pod-spec.ts';
import { PodStatusReporter, statusTime, type ContainerView } from './pod-status.ts';
import { materializeVolumes } from './pod-volumes.ts';
import { probeOnce } from './probe.ts';
import { ContainerProber } from './prober.ts';
import { processTreeUsage, type ProcessUsage } from './process-usage.ts';
import { restartBackoffMs } from '@podscale/process/restart-backoff.ts';

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

interface ContainerState extends ContainerView {
  spec: ContainerSpec;
  image: ImageConfig;
  process?: GuardedProcess;
  /** The restart back-off's timer. */
  timers: NodeJS.Timeout[];
  prober?: ContainerProber;
}

const now = statusTime;

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
  readonly #sources: PodSources;
  readonly #reporter = new PodStatusReporter();

  constructor(pod: PodObject, node: NodeContext) {
    this.pod = pod;
    this.uid = pod.metadata.uid ?? '';
    this.namespace = pod.metadata.namespace ?? 'default';
    this.name = pod.metadata.name;
    this.#node = node;
    this.#dir = join(node.podsDir, `${this.namespace}_${this.name}_${this.uid}`);
    this.#sources = new PodSources(pod, node.client, node, () => this.ip);
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
    const volumes = await materializeVolumes(this.pod, this.#dir, this.#sources);
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
    const env = await containerEnv(container.spec, container.image.env, this.pod, this.#node.apiserver, this.#sources);
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
    // kubelet restarts at once the first time; later restarts wait in CrashLoopBackOff.
    if (delay > 0) container.waiting = { reason: 'CrashLoopBackOff', message: `back-off ${delay / 1000}s restarting failed container` };
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
    return this.#reporter.status({ nodeIp: this.#node.nodeIp, ip: this.ip, sandboxReady: Boolean(this.netns), startTime: this.#startTime, containers: this.#containers });
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
