import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { until } from '@podscale/process/net.ts';
import { Component } from '@podscale/process/components.ts';
import { run } from './host.ts';

export const CONTAINERD = '/usr/bin/containerd';
export const CTR = '/usr/bin/ctr';
export const RUNC = '/usr/bin/runc';
export const CNI_BIN_DIR = '/usr/lib/cni';

export interface ContainerdOptions {
  /** Its state (shims' bundles, netns mounts), socket and config go here. */
  dir: string;
  /** Content, snapshots and metadata: may outlive the run (the image cache). */
  root: string;
  logDir: string;
  sandboxImage: string;
  cniConfDir: string;
  /** Restarts containerd when it dies, and says so (see Component); its containers keep running. */
  supervise?: (line: string) => void;
}

/**
 * containerd 1.6 (Debian's package) as the node's container runtime: its CRI plugin serves
 * kubelet, runc runs the containers with cgroupfs (no systemd here), and everything it keeps is
 * under the cluster directory rather than /var/lib/containerd and /run/containerd.
 */
export class Containerd {
  readonly socket: string;
  readonly component: Component;

  private constructor(socket: string, component: Component) {
    this.socket = socket;
    this.component = component;
  }

  static config(options: ContainerdOptions): string {
    const { dir } = options;
    return `# containerd for the podscale real node (written by packages/kube-local/src/real-node/containerd.ts).
version = 2
root = "${options.root}"
state = "${join(dir, 'state')}"
# No gRPC over TCP, no debug or metrics listeners: kubelet and ctr reach it on the socket only.
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${join(dir, 'containerd.sock')}"

[ttrpc]
  address = "${join(dir, 'containerd.sock.ttrpc')}"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, 'opt')}"

[plugins."io.containerd.grpc.v1.cri"]
  # Our own pause (tools/images/pause.c), imported below: there is no registry to pull one from.
  sandbox_image = "${options.sandboxImage}"
  # Without CAP_SYS_RESOURCE nothing may lower an oom_score_adj: kubelet asks -998 for sandboxes
  # and -997 for Guaranteed pods. This clamps them to containerd's own (the rootless setting).
  restrict_oom_score_adj = true
  # Pod network namespaces as bind mounts under the state directory, not /var/run/netns.
  netns_mounts_under_state_dir = true
  # kubectl exec/logs/port-forward streams: loopback only.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # Debian's runc: crun refuses cgroup v1 hybrid hosts such as this one.
        BinaryName = "${RUNC}"
        Root = "${join(dir, 'runc')}"
        # cgroupfs, like kubelet's cgroupDriver: there is no systemd to delegate to.
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${options.cniConfDir}"
`;
  }

  static async start(options: ContainerdOptions): Promise<Containerd> {
    await mkdir(options.dir, { recursive: true, mode: 0o711 });
    await mkdir(options.root, { recursive: true, mode: 0o711 });
    const configFile = join(options.dir, 'config.toml');
    await writeFile(configFile, Containerd.config(options));
    // No registry can be reached from here, and none may be tried: every pull goes to a "proxy" on a
    // closed loopback port and fails at once (the images are imported, below).
    const env = { ...process.env, HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '', https_proxy: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', no_proxy: '' };
    const component = await Component.start('containerd', CONTAINERD, ['--config', configFile, '--log-level', 'warn'], { logDir: options.logDir, graceMs: 10_000, env, supervise: options.supervise });
    const containerd = new Containerd(join(options.dir, 'containerd.sock'), component);
    try {
      await until(async () => (await containerd.ctr(['version']).then(() => true, () => false)) || !component.running, { timeoutMs: 30_000, intervalMs: 100, what: 'containerd to serve its socket' });
      if (!component.running) throw new Error(`containerd exited at start; see ${component.logFile}`);
    } catch (error) {
      await component.stop();
      throw error;
    }
    return containerd;
  }

  ctr(args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
    return run(CTR, ['--address', this.socket, ...args], options);
  }

  /**
   * `ctr -n k8s.io images import` of docker archives (what podman saved), unpacked for overlayfs,
   * two at a time; an image is skipped when the store already holds it from the same archive
   * (`<name>-<image id>.tar`, recorded in the image's `io.podscale.archive` label). Returns the
   * archives it imported.
   */
  async importImages(images: { image: string; archive: string }[]): Promise<string[]> {
    const labels = new Map<string, string>();
    for (const line of (await this.ctr(['-n', 'k8s.io', 'images', 'ls'])).split('\n').slice(1)) {
      const [name] = line.split(/\s+/);
      const label = /io\.podscale\.archive=([^,\s]+)/.exec(line)?.[1];
      if (name && label) labels.set(name, label);
    }
    const pending: { archive: string; image: string; id: string }[] = [];
    for (const { image, archive } of images) {
      const id = basename(await realpath(archive));
      if (labels.get(image) !== id) pending.push({ archive, image, id });
    }
    const queue = [...pending];
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        await this.ctr(['-n', 'k8s.io', 'images', 'import', '--snapshotter', 'overlayfs', next.archive], { timeoutMs: 300_000 });
        await this.ctr(['-n', 'k8s.io', 'images', 'label', next.image, `io.podscale.archive=${next.id}`]);
      }
    };
    await Promise.all([worker(), worker()]);
    return pending.map(({ archive }) => archive);
  }

  /** Another name for an imported image (`ctr images tag`), as a registry would serve both. */
  async tag(source: string, target: string): Promise<void> {
    await this.ctr(['-n', 'k8s.io', 'images', 'tag', '--force', source, target]);
  }

  async images(): Promise<string[]> {
    return (await this.ctr(['-n', 'k8s.io', 'images', 'ls', '-q'])).split('\n').filter(Boolean);
  }

  /** Kills and removes every task and container containerd still knows (after kubelet is gone). */
  async removeAllContainers(): Promise<void> {
    const tasks = (await this.ctr(['-n', 'k8s.io', 'tasks', 'ls', '-q']).catch(() => '')).split('\n').filter(Boolean);
    for (const id of tasks) await this.ctr(['-n', 'k8s.io', 'tasks', 'kill', '-s', 'SIGKILL', id]).catch(() => undefined);
    for (const id of tasks) await this.ctr(['-n', 'k8s.io', 'tasks', 'delete', '-f', id]).catch(() => undefined);
    const containers = (await this.ctr(['-n', 'k8s.io', 'containers', 'ls', '-q']).catch(() => '')).split('\n').filter(Boolean);
    for (const id of containers) await this.ctr(['-n', 'k8s.io', 'containers', 'delete', id]).catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.component.stop();
  }
}
