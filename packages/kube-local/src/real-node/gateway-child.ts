#!/usr/bin/env node
/**
 * The far side of the Service gateway (service-gateway.ts), run inside the gateway's network
 * namespace on the pod bridge: it is handed listening sockets that the parent opened on the
 * machine's 127.0.0.1, and connects each accepted connection to its Service's ClusterIP from here,
 * where kube-proxy's rules apply (PREROUTING on the bridge) and the machine's blackhole route for
 * the Service range does not. Exits when the parent goes.
 */
import { connect, type Server, type Socket } from 'node:net';

interface Listen {
  id: string;
  host: string;
  port: number;
}

const servers = new Map<string, { server: Server; sockets: Set<Socket> }>();

process.on('message', (message: Listen | { close: string }, handle?: unknown) => {
  if ('close' in message) {
    const entry = servers.get(message.close);
    entry?.server.close();
    for (const socket of entry?.sockets ?? []) socket.destroy();
    servers.delete(message.close);
    return;
  }
  const server = handle as Server;
  const sockets = new Set<Socket>();
  server.on('connection', (client: Socket) => {
    const upstream = connect({ host: message.host, port: message.port });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    client.once('error', () => upstream.destroy());
    // A refused or reset Service connection is passed on as a reset, as a client of the ClusterIP would see it.
    upstream.once('error', () => client.resetAndDestroy());
    client.pipe(upstream).pipe(client);
  });
  servers.set(message.id, { server, sockets });
  process.send?.({ listening: message.id });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
