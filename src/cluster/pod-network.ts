import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SERVICE_CIDR } from './control-plane.ts';

const run = promisify(execFile);

async function ip(...args: string[]): Promise<string> {
  return (await run('ip', args)).stdout;
}

/** Runs `ip`, ignoring "does not exist"-style failures: for teardown, which must be idempotent. */
async function ipQuiet(...args: string[]): Promise<void> {
  await run('ip', args).catch(() => undefined);
}

export const POD_CIDR = '10.244.0.0/24';
/** The node's side of the pod bridge: the node's InternalIP, where pods reach the node agent. */
export const NODE_IP = '10.244.0.1';
const POD_PREFIX = '10.244.0.';
const POD_RANGE_BLACKHOLE = '10.244.0.0/16';

export interface PodNetworkNames {
  bridge: string;
  netnsPrefix: string;
}

/**
 * Pod networking for the node agent, with iproute2 only: a bridge holding the node's address, one
 * network namespace per pod joined to it by a veth pair, and every Service ClusterIP as a /32 on
 * the bridge (as kube-proxy's IPVS mode puts them on a dummy device; this kernel has no dummy
 * driver), on which the Service proxy listens. Pods
 * route only the pod and Service ranges (no default route), and both ranges are blackholed on the
 * node, so nothing addressed into them can leave the machine.
 */
export class PodNetwork {
  readonly names: PodNetworkNames;
  readonly #allocated = new Map<string, number>();
  readonly #serviceIps = new Set<string>();

  constructor(names: PodNetworkNames = { bridge: 'podscale0', netnsPrefix: 'podscale-' }) {
    this.names = names;
  }

  /** Whether this process may create network namespaces (root with CAP_NET_ADMIN). */
  static async available(): Promise<string | undefined> {
    if (process.getuid?.() !== 0) return 'the node agent gives each pod its own network namespace, which needs root';
    const probe = `podscale-probe-${process.pid}`;
    try {
      await ip('netns', 'add', probe);
      await ip('netns', 'del', probe);
      return undefined;
    } catch (error) {
      return `cannot create network namespaces here: ${(error as { stderr?: string }).stderr?.trim() ?? String(error)}`;
    }
  }

  async setUp(): Promise<void> {
    await this.tearDown();
    await ip('link', 'add', this.names.bridge, 'type', 'bridge');
    await ip('addr', 'add', `${NODE_IP}/24`, 'dev', this.names.bridge);
    await ip('link', 'set', this.names.bridge, 'up');
    await ip('route', 'add', 'blackhole', SERVICE_CIDR);
    await ip('route', 'add', 'blackhole', POD_RANGE_BLACKHOLE);
  }

  /** Removes everything `setUp` and the pods created; safe to call when nothing exists. */
  async tearDown(): Promise<void> {
    for (const netns of await this.namespaces()) await ipQuiet('netns', 'del', netns);
    await ipQuiet('link', 'del', this.names.bridge);
    await ipQuiet('route', 'del', 'blackhole', SERVICE_CIDR);
    await ipQuiet('route', 'del', 'blackhole', POD_RANGE_BLACKHOLE);
    this.#allocated.clear();
    this.#serviceIps.clear();
  }

  /** Network namespaces this network owns (by name prefix), for teardown and leak checks. */
  async namespaces(): Promise<string[]> {
    const listing = await ip('netns', 'list').catch(() => '');
    return listing.split('\n').map((line) => line.split(' ')[0] ?? '').filter((name) => name.startsWith(this.names.netnsPrefix));
  }

  /** What of this network exists on the machine right now; empty after a clean teardown. */
  async leftovers(): Promise<string[]> {
    const found = (await this.namespaces()).map((name) => `netns ${name}`);
    const links = await ip('-o', 'link', 'show').catch(() => '');
    for (const name of [this.names.bridge]) if (links.includes(` ${name}:`) || links.includes(` ${name}@`)) found.push(`link ${name}`);
    const routes = await ip('route', 'show', 'type', 'blackhole').catch(() => '');
    for (const range of [SERVICE_CIDR, POD_RANGE_BLACKHOLE]) if (routes.includes(range)) found.push(`blackhole ${range}`);
    return found;
  }

  netnsName(podUid: string): string {
    return `${this.names.netnsPrefix}${podUid.slice(0, 8)}`;
  }

  /** Creates the pod's namespace and veth, and returns its IP. */
  async addPod(podUid: string): Promise<{ netns: string; ip: string }> {
    const netns = this.netnsName(podUid);
    const index = this.#nextIndex();
    this.#allocated.set(podUid, index);
    const podIp = `${POD_PREFIX}${index}`;
    const hostSide = `psv${podUid.slice(0, 8)}`;
    await ipQuiet('netns', 'del', netns);
    await ip('netns', 'add', netns);
    await ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
    await ip('link', 'set', hostSide, 'master', this.names.bridge, 'up');
    const inPod = (...args: string[]) => ip('-n', netns, ...args);
    await inPod('link', 'set', 'lo', 'up');
    await inPod('addr', 'add', `${podIp}/24`, 'dev', 'eth0');
    await inPod('link', 'set', 'eth0', 'up');
    // Only the Service range beyond the pod subnet: no default route, so a pod cannot reach
    // anything but pods, Services and the node.
    await inPod('route', 'add', SERVICE_CIDR, 'via', NODE_IP);
    return { netns, ip: podIp };
  }

  async removePod(podUid: string): Promise<void> {
    // Deleting the namespace destroys its veth end, and with it the node's end.
    await ipQuiet('netns', 'del', this.netnsName(podUid));
    this.#allocated.delete(podUid);
  }

  /** Makes the node own a ClusterIP, so the Service proxy can listen on it. */
  async addServiceIp(clusterIp: string): Promise<void> {
    if (this.#serviceIps.has(clusterIp)) return;
    this.#serviceIps.add(clusterIp);
    await ip('addr', 'add', `${clusterIp}/32`, 'dev', this.names.bridge);
  }

  serviceIps(): string[] {
    return [...this.#serviceIps];
  }

  async removeServiceIp(clusterIp: string): Promise<void> {
    if (!this.#serviceIps.delete(clusterIp)) return;
    await ipQuiet('addr', 'del', `${clusterIp}/32`, 'dev', this.names.bridge);
  }

  // Round robin over the subnet rather than lowest-free: a replacement pod does not inherit the
  // address of one that just went, which stale endpoints or connections may still point at.
  #cursor = 1;
  #nextIndex(): number {
    const used = new Set(this.#allocated.values());
    for (let step = 0; step < 253; step++) {
      this.#cursor = this.#cursor >= 254 ? 2 : this.#cursor + 1;
      if (!used.has(this.#cursor)) return this.#cursor;
    }
    throw new Error(`pod network ${POD_CIDR} is full`);
  }
}
