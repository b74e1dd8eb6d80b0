import { once } from 'node:events';
import { writeFile, rename } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { KubeClient, KubeObject } from './kube-client.ts';
import type { PodNetwork } from './pod-network.ts';

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
}
interface ServiceObject extends KubeObject {
  spec: { clusterIP?: string; type?: string; ports?: ServicePort[]; externalName?: string };
}
interface EndpointSliceObject extends KubeObject {
  addressType: string;
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean } }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

interface Backend {
  host: string;
  port: number;
}

interface Listener {
  key: string;
  server: Server;
  sockets: Set<Socket>;
}

/**
 * The kube-proxy stand-in (userspace mode): for each Service port it listens on the ClusterIP
 * (owned by the node's dummy interface, for pods) and, for the first port, on an ephemeral
 * 127.0.0.1 port (for the host: `services.json`), and forwards each connection to the next ready
 * endpoint of the Service's EndpointSlices, round robin. `default/kubernetes` goes to the apiserver.
 */
export class ServiceProxy {
  readonly #client: KubeClient;
  readonly #network: PodNetwork;
  readonly #apiserver: Backend;
  readonly #servicesFile: string;
  readonly #onServicesChanged: () => void;
  #services: ReadonlyMap<string, ServiceObject> = new Map();
  #slices: ReadonlyMap<string, EndpointSliceObject> = new Map();
  readonly #listeners = new Map<string, Listener>();
  readonly #hostUrls = new Map<string, string>();
  readonly #cursor = new Map<string, number>();
  readonly #abort = new AbortController();
  #watches: Promise<void>[] = [];
  #sync: Promise<void> = Promise.resolve();
  #synced = { services: false, slices: false };
  #lastWritten = '';

  constructor(options: { client: KubeClient; network: PodNetwork; apiserver: Backend; servicesFile: string; onServicesChanged: () => void }) {
    this.#client = options.client;
    this.#network = options.network;
    this.#apiserver = options.apiserver;
    this.#servicesFile = options.servicesFile;
    this.#onServicesChanged = options.onServicesChanged;
  }

  async start(): Promise<void> {
    const signal = this.#abort.signal;
    const follow = <T extends KubeObject>(path: string, which: 'services' | 'slices', keep: (objects: ReadonlyMap<string, T>) => void) =>
      this.#client.mirror<T>(
        path,
        (objects) => {
          keep(objects);
          this.#synced[which] = true;
          this.#reconcileSoon();
        },
        signal,
      );
    this.#watches = [
      follow<ServiceObject>('/api/v1/services', 'services', (objects) => (this.#services = objects)),
      follow<EndpointSliceObject>('/apis/discovery.k8s.io/v1/endpointslices', 'slices', (objects) => (this.#slices = objects)),
    ];
  }

  /** `<namespace>/<service>` → `http://127.0.0.1:PORT`, as written to services.json. */
  get hostUrls(): Record<string, string> {
    return Object.fromEntries([...this.#hostUrls].sort());
  }

  /** /etc/hosts lines for every Service with a ClusterIP: name, name.namespace, …svc, …svc.cluster.local. */
  hostsEntries(): string {
    return [...this.#services.values()]
      .filter((service) => service.spec.clusterIP && service.spec.clusterIP !== 'None')
      .map((service) => {
        const { name, namespace } = service.metadata;
        return `${service.spec.clusterIP}\t${name}.${namespace}.svc.cluster.local ${name}.${namespace}.svc ${name}.${namespace}${namespace === 'default' ? ` ${name}` : ''}\n`;
      })
      .join('');
  }

  #reconcileSoon(): void {
    this.#sync = this.#sync.then(() => this.#reconcile()).catch(() => undefined);
  }

  async #reconcile(): Promise<void> {
    if (!this.#synced.services) return;
    const wanted = new Set<string>();
    for (const service of this.#services.values()) {
      const clusterIp = service.spec.clusterIP;
      if (!clusterIp || clusterIp === 'None' || service.spec.type === 'ExternalName') continue;
      const id = `${service.metadata.namespace}/${service.metadata.name}`;
      await this.#network.addServiceIp(clusterIp);
      for (const [index, port] of (service.spec.ports ?? []).entries()) {
        if ((port.protocol ?? 'TCP') !== 'TCP') continue;
        const clusterKey = `${clusterIp}:${port.port}`;
        wanted.add(clusterKey);
        if (!this.#listeners.has(clusterKey)) await this.#listen(clusterKey, clusterIp, port.port, id, port);
        if (index === 0) {
          const hostKey = `host:${id}`;
          wanted.add(hostKey);
          if (!this.#listeners.has(hostKey)) {
            const server = await this.#listen(hostKey, '127.0.0.1', 0, id, port);
            this.#hostUrls.set(id, `http://127.0.0.1:${(server.address() as { port: number }).port}`);
          }
        }
      }
    }
    for (const [key, listener] of this.#listeners) {
      if (wanted.has(key)) continue;
      listener.server.close();
      for (const socket of listener.sockets) socket.destroy();
      this.#listeners.delete(key);
      if (key.startsWith('host:')) this.#hostUrls.delete(key.slice(5));
    }
    const liveIps = new Set([...this.#services.values()].map((service) => service.spec.clusterIP));
    for (const ip of this.#network.serviceIps()) if (!liveIps.has(ip)) await this.#network.removeServiceIp(ip);
    const content = `${JSON.stringify(this.hostUrls, null, 2)}\n`;
    if (content !== this.#lastWritten) {
      this.#lastWritten = content;
      await writeFile(`${this.#servicesFile}.tmp`, content);
      await rename(`${this.#servicesFile}.tmp`, this.#servicesFile);
      this.#onServicesChanged();
    }
  }

  async #listen(key: string, host: string, port: number, serviceId: string, servicePort: ServicePort): Promise<Server> {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      sockets.add(client);
      client.once('close', () => sockets.delete(client));
      const backend = this.#pick(serviceId, servicePort);
      if (!backend) {
        // No ready endpoint: refuse, as kube-proxy's REJECT rule does.
        client.resetAndDestroy();
        return;
      }
      const upstream = connect({ host: backend.host, port: backend.port });
      sockets.add(upstream);
      upstream.once('close', () => sockets.delete(upstream));
      client.pipe(upstream).pipe(client);
      const fail = () => {
        client.destroy();
        upstream.destroy();
      };
      client.once('error', fail);
      upstream.once('error', () => client.resetAndDestroy());
    });
    server.listen(port, host);
    await once(server, 'listening');
    this.#listeners.set(key, { key, server, sockets });
    return server;
  }

  /** The next ready endpoint for a Service port, round robin. */
  #pick(serviceId: string, servicePort: ServicePort): Backend | undefined {
    if (serviceId === 'default/kubernetes') return this.#apiserver;
    const [namespace, name] = serviceId.split('/');
    const backends: Backend[] = [];
    for (const slice of this.#slices.values()) {
      if (slice.metadata.namespace !== namespace || slice.metadata.labels?.['kubernetes.io/service-name'] !== name || slice.addressType !== 'IPv4') continue;
      const port = (slice.ports ?? []).find((candidate) => (candidate.name ?? '') === (servicePort.name ?? ''));
      if (!port?.port) continue;
      for (const endpoint of slice.endpoints ?? []) {
        if (endpoint.conditions?.ready === false) continue;
        for (const address of endpoint.addresses) backends.push({ host: address, port: port.port });
      }
    }
    if (backends.length === 0) return undefined;
    const key = `${serviceId}:${servicePort.port}`;
    const next = ((this.#cursor.get(key) ?? -1) + 1) % backends.length;
    this.#cursor.set(key, next);
    return backends[next];
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#watches.map((watch) => watch.catch(() => undefined)));
    await this.#sync;
    for (const listener of this.#listeners.values()) {
      listener.server.close();
      for (const socket of listener.sockets) socket.destroy();
    }
    this.#listeners.clear();
  }
}
