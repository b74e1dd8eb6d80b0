import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLI, ROOT } from '../../../test/helpers/child.ts';

async function explain(input: string): Promise<{ code: number | null; lines: Record<string, unknown>[] }> {
  const child = spawn(process.execPath, [CLI, 'policy', 'explain'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stdin.end(input);
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, lines: stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('podscale policy explain', () => {
  it('answers each line with the replicas chosen and why, in order; a bad line gets an error and exit 1', async () => {
    const policy = parse(await readFile(join(ROOT, 'k8s/controller/example-policy.yaml'), 'utf8')) as Record<string, unknown>;
    const query = 'sum(kafka_consumergroup_lag{group="orders"})';
    const base = {
      policy,
      currentReplicas: 3,
      pods: [0, 1, 2].map((i) => ({ name: `p${i}`, requests: { cpu: '100m' } })),
      metrics: { cpu: { p0: '50m', p1: '50m', p2: '50m' }, pods: { http_requests_per_second: { p0: '90', p1: '90', p2: '90' } }, prometheus: { [query]: 7000 } },
    };
    const lines = [
      // 12:00 in Berlin (11:00Z), day window (floor 10), max 10.
      { ...base, now: '2026-01-10T11:00:00Z' },
      // 23:30 in Berlin: night window (floor 2); the lag asks for 7.
      { ...base, now: '2026-01-10T22:30:00Z' },
      // Low load, but scaled 60 s ago: CPU proposes 3 (50 % of 70 % × 3 pods), not written in the cooldown.
      { ...base, now: '2026-01-10T22:30:00Z', currentReplicas: 7, lastScaleTime: '2026-01-10T22:29:00Z', metrics: { ...base.metrics, pods: { http_requests_per_second: { p0: '50', p1: '50', p2: '50' } }, prometheus: { [query]: 1000 } } },
      { ...base, now: 'yesterday' },
      { ...base, policy: { ...policy, spec: { ...(policy.spec as object), metrics: [{ type: 'KafkaLag', threshold: 5 }] } }, now: '2026-01-10T22:30:00Z' },
    ];
    const { code, lines: out } = await explain(`${lines.map((l) => JSON.stringify(l)).join('\n')}\nnot json\n`);
    expect(code).toBe(1);
    expect(out).toHaveLength(6);
    expect(out[0]).toMatchObject({ desiredReplicas: 10, write: true, limit: 'ScheduleFloor', scheduleEntry: { time: '09:00', replicas: 10, since: '2026-01-10T08:00:00.000Z' } });
    expect(out[1]).toMatchObject({ desiredReplicas: 7, write: true, limit: null, scheduleEntry: { time: '22:00', replicas: 2 } });
    expect((out[1]!.metrics as unknown[]).map((m) => (m as { proposal?: number }).proposal)).toEqual([3, 3, 7]);
    expect(out[1]!.reason).toMatch(/Prometheus .* proposes 7/);
    expect(out[2]).toMatchObject({ desiredReplicas: 3, write: false, cooldown: { seconds: 120, active: true, until: '2026-01-10T22:31:00.000Z' } });
    expect(out[2]!.reason).toMatch(/cooldown/);
    expect(out[3]).toEqual({ error: 'now must be an ISO 8601 time such as "2026-03-29T07:30:00Z"' });
    expect(out[4]!.error).toMatch(/a KafkaLag metric needs bootstrapServers: a non-empty list of host:port; .*a KafkaLag metric needs a consumerGroup; .*a KafkaLag metric needs a topic/);
    expect(out[5]!.error).toMatch(/^not JSON/);
  });

  it('documents its input in --help, and podscale controller --help lists the flags', async () => {
    const run = (args: string[]) => {
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      return once(child, 'close').then(([code]) => ({ code: code as number, stdout }));
    };
    const policy = await run(['policy', 'explain', '--help']);
    expect(policy.stdout).toMatch(/"lastScaleTime"/);
    const controller = await run(['controller', '--help']);
    expect(controller).toMatchObject({ code: 0 });
    expect(controller.stdout).toMatch(/--prometheus-url <url>.*http:\/\/prometheus\.podscale\.svc:9090/);
  });
});
