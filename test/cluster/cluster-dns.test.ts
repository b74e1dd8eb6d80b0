import { describe, expect, it } from 'vitest';
import { answer } from '@podscale/kube-local/real-node/cluster-dns.ts';

/** A query as a stub resolver sends it: one question, RD set. */
function query(name: string, type = 1, id = 0x1234): Buffer {
  const labels = name.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)]));
  const header = Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, type, 0, 1])]);
}

const records: Record<string, string> = { 'prometheus.podscale.svc.cluster.local': '10.96.12.34' };
const lookup = (name: string) => records[name];

describe('the real node\'s cluster DNS stand-in', () => {
  it('answers A for a Service name with its ClusterIP, echoing id and question', () => {
    const reply = answer(query('Prometheus.podscale.svc.cluster.local'), lookup)!;
    expect(reply.readUInt16BE(0)).toBe(0x1234);
    expect(reply[2]! & 0x80).toBe(0x80);
    expect(reply[3]! & 0x0f).toBe(0);
    expect(reply.readUInt16BE(6)).toBe(1);
    expect([...reply.subarray(-4)]).toEqual([10, 96, 12, 34]);
  });

  it('says NXDOMAIN for names it does not know (search-list candidates, the outside world)', () => {
    for (const name of ['prometheus.podscale.svc.podscale.svc.cluster.local', 'example.org']) {
      const reply = answer(query(name), lookup)!;
      expect(reply[3]! & 0x0f).toBe(3);
      expect(reply.readUInt16BE(6)).toBe(0);
    }
  });

  it('answers AAAA of a known name with no records (NODATA), and ignores responses', () => {
    const reply = answer(query('prometheus.podscale.svc.cluster.local', 28), lookup)!;
    expect(reply[3]! & 0x0f).toBe(0);
    expect(reply.readUInt16BE(6)).toBe(0);
    const response = Buffer.from(reply);
    expect(answer(response, lookup)).toBeUndefined();
  });
});
