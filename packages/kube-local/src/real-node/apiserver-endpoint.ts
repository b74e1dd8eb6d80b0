import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { KubeClient } from '../kube-client.ts';

export const APISERVER_NODE_PORT = 6443;

/**
 * Where pods reach the apiserver through the `kubernetes` Service. The apiserver listens on
 * loopback only, and EndpointSlices may not hold loopback addresses, so the node relays
 * `<node IP>:6443` (its bridge address, reachable from pods only) to it, and the EndpointSlice of
 * `default/kubernetes` — which nobody else writes with `--endpoint-reconciler-type=none` — names
 * that address; kube-proxy then DNATs the Service's ClusterIP to it like any other endpoint.
 */
export class ApiserverEndpoint {
  readonly #server: Server;
  readonly #sockets: Set<Socket>;

  private constructor(server: Server, sockets: Set<Socket>) {
    this.#server = server;
    this.#sockets = sockets;
  }

  static async start(options: { nodeIp: string; apiserver: { host: string; port: number }; client: KubeClient }): Promise<ApiserverEndpoint> {
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = connect(options.apiserver);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        socket.once('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(APISERVER_NODE_PORT, options.nodeIp);
    await once(server, 'listening');
    const endpoint = new ApiserverEndpoint(server, sockets);
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'real-node.podscale.dev' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [options.nodeIp], conditions: { ready: true, serving: true, terminating: false } }],
      ports: [{ name: 'https', port: APISERVER_NODE_PORT, protocol: 'TCP' }],
    };
    try {
      await options.client.call('POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice).catch(async (error: { status?: number }) => {
        if (error.status !== 409) throw error;
        await options.client.call('PUT', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes', slice);
      });
    } catch (error) {
      await endpoint.stop();
      throw error;
    }
    return endpoint;
  }

  async stop(): Promise<void> {
    this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
  }
}
