import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function ip(...args: string[]): Promise<string> {
  return (await run('ip', args)).stdout;
}

/** Runs `ip`, ignoring "does not exist"-style failures: for teardown, which must be idempotent. */
async function ipQuiet(...args: string[]): Promise<void> {
  await run('ip', args).catch(() => undefined);
}

/** Clusters that can run side by side on one machine, each with its own bridge and ranges. */
const SLOTS = 10;

/**
 * Pod networking for the node agent, with iproute2 only: a bridge holding the node's address, one
 * network namespace per pod joined to it by a veth pair, and every Service ClusterIP as a /32 on
 * the bridge (as kube-proxy's IPVS mode puts them on a dummy device; this kernel has no dummy
 * driver), on which the Service proxy listens. Pods route only their subnet and the Service range
 * (no default route), and the Service range is blackholed on the node, so nothing addressed into
 * it can leave the machine.
 *
 * Slot N (0–9) is bridge podscaleN, pods 10.244.N.0/24 with the node at 10.244.N.1, Services
 * 10.(96+N).0.0/16: clusters in different slots (a test beside a `cluster up`) do not collide.
 */
export class PodNetwork {
  readonly slot: number;
  readonly bridge: string;
  readonly netnsPrefix: string;
  readonly podCidr: string;
  /** The node's side of the pod bridge: its InternalIP, where pods reach the node agent. */
  readonly nodeIp: string;
  readonly serviceCidr: string;
  /** The `kubernetes` Service's ClusterIP: the first address of the Service range. */
  readonly kubernetesServiceIp: string;
  readonly #podPrefix: string;
  readonly #allocated = new Map<string, number>();
  readonly #serviceIps = new Set<string>();

  constructor(slot: number) {
    this.slot = slot;
    this.bridge = `podscale${slot}`;
    this.netnsPrefix = `podscale${slot}-`;
    this.#podPrefix = `10.244.${slot}.`;
    this.podCidr = `10.244.${slot}.0/24`;
    this.nodeIp = `10.244.${slot}.1`;
    this.serviceCidr = `10.${96 + slot}.0.0/16`;
    this.kubernetesServiceIp = `10.${96 + slot}.0.1`;
  }

  /**
   * Takes the first free slot and sets its network up. Creating the bridge is the claim: the
   * kernel refuses a second bridge of the same name, so two clusters starting at once cannot
   * both take a slot.
   */
  static async claim(): Promise<PodNetwork> {
    for (let slot = 0; slot < SLOTS; slot++) {
      const network = new PodNetwork(slot);
      try {
        await ip('link', 'add', network.bridge, 'type', 'bridge');
      } catch {
        continue;
      }
      try {
        await network.#setUp();
      } catch (error) {
        await network.tearDown();
        throw error;
      }
      return network;
    }
    throw new Error(`all ${SLOTS} pod network slots are taken (bridges podscale0..${SLOTS - 1}); stop a running cluster or remove a stale bridge with: ip link del podscale<N>`);
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

  async #setUp(): Promise<void> {
    for (const netns of await this.namespaces()) await ipQuiet('netns', 'del', netns);
    await ip('addr', 'add', `${this.nodeIp}/24`, 'dev', this.bridge);
    await ip('link', 'set', this.bridge, 'up');
    await ipQuiet('route', 'del', 'blackhole', this.serviceCidr);
    await ip('route', 'add', 'blackhole', this.serviceCidr);
  }

  /** Removes everything `setUp` and the pods created; safe to call when nothing exists. */
  async tearDown(): Promise<void> {
    for (const netns of await this.namespaces()) await ipQuiet('netns', 'del', netns);
    await ipQuiet('link', 'del', this.bridge);
    await ipQuiet('route', 'del', 'blackhole', this.serviceCidr);
    this.#allocated.clear();
    this.#serviceIps.clear();
  }

  /** Network namespaces this network owns (by name prefix), for teardown and leak checks. */
  async namespaces(): Promise<string[]> {
    const listing = await ip('netns', 'list').catch(() => '');
    return listing.split('\n').map((line) => line.split(' ')[0] ?? '').filter((name) => name.startsWith(this.netnsPrefix));
  }

  /** What of this network exists on the machine right now; empty after a clean teardown. */
  async leftovers(): Promise<string[]> {
    const found = (await this.namespaces()).map((name) => `netns ${name}`);
    const links = await ip('-o', 'link', 'show').catch(() => '');
    if (links.includes(` ${this.bridge}:`)) found.push(`link ${this.bridge}`);
    const routes = await ip('route', 'show', 'type', 'blackhole').catch(() => '');
    if (routes.includes(this.serviceCidr)) found.push(`blackhole ${this.serviceCidr}`);
    return found;
  }

  netnsName(podUid: string): string {
    return `${this.netnsPrefix}${podUid.slice(0, 8)}`;
  }

  /** Creates the pod's namespace and veth, and returns its IP. */
  async addPod(podUid: string): Promise<{ netns: string; ip: string }> {
    const netns = this.netnsName(podUid);
    const index = this.#nextIndex();
    this.#allocated.set(podUid, index);
    const podIp = `${this.#podPrefix}${index}`;
    const hostSide = `psv${podUid.slice(0, 8)}`;
    await ipQuiet('netns', 'del', netns);
    await ip('netns', 'add', netns);
    await ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
    await ip('link', 'set', hostSide, 'master', this.bridge, 'up');
    const inPod = (...args: string[]) => ip('-n', netns, ...args);
    await inPod('link', 'set', 'lo', 'up');
    await inPod('addr', 'add', `${podIp}/24`, 'dev', 'eth0');
    await inPod('link', 'set', 'eth0', 'up');
    // Only the Service range beyond the pod subnet: no default route, so a pod cannot reach
    // anything but pods, Services and the node.
    await inPod('route', 'add', this.serviceCidr, 'via', this.nodeIp);
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
    await ip('addr', 'add', `${clusterIp}/32`, 'dev', this.bridge);
  }

  serviceIps(): string[] {
    return [...this.#serviceIps];
  }

  async removeServiceIp(clusterIp: string): Promise<void> {
    if (!this.#serviceIps.delete(clusterIp)) return;
    await ipQuiet('addr', 'del', `${clusterIp}/32`, 'dev', this.bridge);
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
    throw new Error(`pod network ${this.podCidr} is full`);
  }
}
