import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rename, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { KubeClient, KubeObject } from '../kube-client.ts';
import type { PodNetwork } from '../pod-network.ts';
import { run, runQuiet } from './host.ts';

const CHILD = fileURLToPath(new URL(`./gateway-child${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

interface ServiceObject extends KubeObject {
  spec: { clusterIP?: string; type?: string; ports?: { port: number; protocol?: string }[] };
}

/**
 * `services.json` for the real node: for each Service, a `http://127.0.0.1:PORT` that reaches
 * it through its ClusterIP and kube-proxy's rules. The machine itself cannot: the Service range
 * is blackholed on it, and a local connect() is refused by that route before any nat rule. So the
 * listening sockets are opened here, on loopback, and handed to a child in a namespace of its own
 * on the pod bridge (`podscale<N>-gw`, an address outside IPAM's range), which connects out from
 * there as a pod would: the connection is DNATed by kube-proxy's PREROUTING rules to a ready
 * endpoint of the Service, and rollouts, readiness and endpoint propagation behave as for pods.
 */
export class ServiceGateway {
  readonly netns: string;
  readonly #client: KubeClient;
  readonly #network: PodNetwork;
  readonly #address: string;
  readonly #servicesFile: string;
  readonly #abort = new AbortController();
  readonly #urls = new Map<string, { url: string; target: string }>();
  #child: ChildProcess | undefined;
  #watch: Promise<void> | undefined;
  #sync: Promise<void> = Promise.resolve();
  #lastWritten = '';

  constructor(options: { client: KubeClient; network: PodNetwork; address: string; servicesFile: string }) {
    this.#client = options.client;
    this.#network = options.network;
    this.#address = options.address;
    this.#servicesFile = options.servicesFile;
    this.netns = `${options.network.netnsPrefix}gw`;
  }

  async start(): Promise<void> {
    const { netns } = this;
    const network = this.#network;
    const hostSide = `psgw${network.slot}`;
    await runQuiet('ip', ['netns', 'del', netns]);
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await run('ip', ['link', 'set', hostSide, 'master', network.bridge, 'up']);
    const inside = (...args: string[]) => run('ip', ['-n', netns, ...args]);
    await inside('link', 'set', 'lo', 'up');
    await inside('addr', 'add', `${this.#address}/24`, 'dev', 'eth0');
    await inside('link', 'set', 'eth0', 'up');
    await inside('route', 'add', network.serviceCidr, 'via', network.nodeIp);
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, CHILD], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child = child;
    await once(child, 'message');
    this.#watch = this.#client.mirror<ServiceObject>(
      '/api/v1/services',
      (services) => {
        this.#sync = this.#sync.then(() => this.#reconcile(services)).catch(() => undefined);
      },
      this.#abort.signal,
    );
  }

  get hostUrls(): Record<string, string> {
    return Object.fromEntries([...this.#urls].map(([id, { url }]) => [id, url]).sort());
  }

  async #reconcile(services: ReadonlyMap<string, ServiceObject>): Promise<void> {
    const child = this.#child;
    if (!child?.connected) return;
    const wanted = new Map<string, string>();
    for (const [id, service] of services) {
      const port = (service.spec.ports ?? []).find((candidate) => (candidate.protocol ?? 'TCP') === 'TCP');
      const clusterIp = service.spec.clusterIP;
      if (!port || !clusterIp || clusterIp === 'None' || service.spec.type === 'ExternalName') continue;
      wanted.set(id, `${clusterIp}:${port.port}`);
    }
    for (const [id, entry] of this.#urls) {
      if (wanted.get(id) === entry.target) continue;
      child.send({ close: id });
      this.#urls.delete(id);
    }
    for (const [id, target] of wanted) {
      if (this.#urls.has(id)) continue;
      const server = createServer();
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const [host, port] = target.split(':');
      const listening = new Promise<void>((resolve) => {
        const onMessage = (message: { listening?: string }) => {
          if (message.listening !== id) return;
          child.off('message', onMessage);
          resolve();
        };
        child.on('message', onMessage);
      });
      child.send({ id, host, port: Number(port) }, server);
      await listening;
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      // The child holds the socket now; this copy would only compete for connections.
      server.close();
      this.#urls.set(id, { url, target });
    }
    const content = `${JSON.stringify(this.hostUrls, null, 2)}\n`;
    if (content !== this.#lastWritten) {
      this.#lastWritten = content;
      await writeFile(`${this.#servicesFile}.tmp`, content);
      await rename(`${this.#servicesFile}.tmp`, this.#servicesFile);
    }
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#watch?.catch(() => undefined);
    await this.#sync;
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      if (child.connected) child.disconnect();
      else child.kill('SIGTERM');
      await exited;
    }
    await runQuiet('ip', ['netns', 'del', this.netns]);
  }
}
