import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { KubeClient, KubeObject } from '../kube-client.ts';

const TYPE_A = 1;
const CLASS_IN = 1;
const RCODE_NXDOMAIN = 3;

interface ServiceObject extends KubeObject {
  spec: { clusterIP?: string };
}

/** Reads a DNS name at `offset` (no compression pointers: queries carry none). */
function readName(message: Buffer, offset: number): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let at = offset;
  while (at < message.length) {
    const length = message[at]!;
    if (length === 0) return { name: labels.join('.').toLowerCase(), end: at + 1 };
    if (length > 63) return undefined;
    labels.push(message.subarray(at + 1, at + 1 + length).toString('latin1'));
    at += 1 + length;
  }
  return undefined;
}

/**
 * The answer to one query: A records for `<service>.<namespace>.svc.<domain>` (the Service's
 * ClusterIP), NODATA for other types of a known name, NXDOMAIN for everything else. Exported for
 * its unit test.
 */
export function answer(query: Buffer, lookup: (name: string) => string | undefined): Buffer | undefined {
  if (query.length < 12 || (query[2]! & 0x80) !== 0) return undefined;
  const question = readName(query, 12);
  if (!question || question.end + 4 > query.length) return undefined;
  const type = query.readUInt16BE(question.end);
  const klass = query.readUInt16BE(question.end + 2);
  const address = lookup(question.name);
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  // QR, the query's opcode and RD, AA (this is the zone's only server), RA not offered.
  header[2] = 0x80 | (query[2]! & 0x79) | 0x04;
  header[3] = address === undefined ? RCODE_NXDOMAIN : 0;
  header.writeUInt16BE(1, 4);
  const questionBytes = query.subarray(12, question.end + 4);
  if (address === undefined || type !== TYPE_A || klass !== CLASS_IN) return Buffer.concat([header, questionBytes]);
  header.writeUInt16BE(1, 6);
  const record = Buffer.alloc(16);
  record.writeUInt16BE(0xc00c, 0);
  record.writeUInt16BE(TYPE_A, 2);
  record.writeUInt16BE(CLASS_IN, 4);
  record.writeUInt32BE(5, 6);
  record.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, index) => record.writeUInt8(Number(octet), 12 + index));
  return Buffer.concat([header, questionBytes, record]);
}

/**
 * The cluster DNS stand-in (no CoreDNS is built here): a UDP server on the node's bridge address
 * that knows Service names only — `<service>.<namespace>.svc.cluster.local` → ClusterIP, from a
 * watch on Services — and forwards nothing anywhere, so no pod's lookup leaves the machine.
 */
export class ClusterDns {
  readonly #client: KubeClient;
  readonly #domain: string;
  readonly #records = new Map<string, string>();
  readonly #abort = new AbortController();
  #socket: Socket | undefined;
  #watch: Promise<void> | undefined;

  constructor(options: { client: KubeClient; domain?: string }) {
    this.#client = options.client;
    this.#domain = options.domain ?? 'cluster.local';
  }

  lookup(name: string): string | undefined {
    return this.#records.get(name.replace(/\.$/, ''));
  }

  async start(host: string, port = 53): Promise<void> {
    this.#watch = this.#client.mirror<ServiceObject>(
      '/api/v1/services',
      (services) => {
        this.#records.clear();
        for (const service of services.values()) {
          if (service.spec.clusterIP && service.spec.clusterIP !== 'None') this.#records.set(`${service.metadata.name}.${service.metadata.namespace}.svc.${this.#domain}`, service.spec.clusterIP);
        }
      },
      this.#abort.signal,
    );
    const socket = createSocket('udp4');
    socket.on('message', (message: Buffer, remote: RemoteInfo) => {
      const reply = answer(message, (name) => this.lookup(name));
      if (reply) socket.send(reply, remote.port, remote.address);
    });
    socket.bind(port, host);
    await once(socket, 'listening');
    this.#socket = socket;
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#watch?.catch(() => undefined);
    if (this.#socket) await new Promise<void>((resolve) => this.#socket!.close(() => resolve()));
  }
}
