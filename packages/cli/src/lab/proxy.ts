import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * The Service: a TCP proxy on one port that, like kube-proxy, picks a ready endpoint for each
 * new *connection* (round-robin) and pipes bytes both ways. Endpoint changes take effect a
 * propagation delay after they happen, as kube-proxy learns of them seconds late — the window a
 * zero-loss drain has to survive.
 */
export class LabServiceProxy {
  readonly propagationDelayMs: number;
  #server: Server | undefined;
  readonly #endpoints = new Map<string, number>();
  readonly #pending = new Set<NodeJS.Timeout>();
  readonly #sockets = new Set<Socket>();
  #next = 0;
  refused = 0;

  constructor(propagationDelayMs: number) {
    this.propagationDelayMs = propagationDelayMs;
  }

  async listen(port = 0): Promise<number> {
    this.#server = createServer((client) => this.#route(client));
    this.#server.listen(port, '127.0.0.1');
    await once(this.#server, 'listening');
    return (this.#server.address() as { port: number }).port;
  }

  /** Current endpoints, as this proxy routes to them now. */
  endpoints(): string[] {
    return [...this.#endpoints.keys()];
  }

  /** A pod became ready (add) or stopped being ready / is being deleted (remove): applied after the delay. */
  update(pod: string, port: number, ready: boolean): void {
    const timer = setTimeout(() => {
      this.#pending.delete(timer);
      if (ready) this.#endpoints.set(pod, port);
      else this.#endpoints.delete(pod);
    }, this.propagationDelayMs);
    this.#pending.add(timer);
  }

  #route(client: Socket): void {
    this.#sockets.add(client);
    client.on('close', () => this.#sockets.delete(client));
    client.on('error', () => client.destroy());
    const ports = [...this.#endpoints.values()];
    if (ports.length === 0) {
      // No endpoints: iptables rejects the connection.
      this.refused += 1;
      client.resetAndDestroy();
      return;
    }
    const port = ports[this.#next++ % ports.length]!;
    const upstream = createConnection({ port, host: '127.0.0.1' });
    this.#sockets.add(upstream);
    upstream.on('close', () => this.#sockets.delete(upstream));
    upstream.on('error', () => client.resetAndDestroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.end());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  async close(): Promise<void> {
    for (const timer of this.#pending) clearTimeout(timer);
    for (const socket of this.#sockets) socket.destroy();
    if (this.#server) {
      this.#server.close();
      await once(this.#server, 'close');
    }
  }
}
