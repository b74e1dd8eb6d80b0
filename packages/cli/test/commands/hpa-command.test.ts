import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CLI } from '../../../../test/helpers/child.ts';

async function explain(input: string): Promise<{ code: number | null; lines: unknown[] }> {
  const child = spawn(process.execPath, [CLI, 'hpa', 'explain'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stdin.end(input);
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, lines: stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown) };
}

const situation = {
  spec: {
    minReplicas: 2,
    maxReplicas: 10,
    metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
      { type: 'Pods', pods: { metric: { name: 'http_requests_per_second' }, target: { type: 'AverageValue', averageValue: '100' } } },
    ],
    behavior: { scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } },
  },
  currentReplicas: 2,
  now: 1000,
  pods: [
    { name: 'a', requests: { cpu: '100m' } },
    { name: 'b', requests: { cpu: '100m' } },
  ],
  metrics: { resource: { cpu: { a: '40m', b: '50m' } }, pods: { http_requests_per_second: { a: '300', b: '280' } } },
};

describe('podscale hpa explain', () => {
  it('answers each JSON line with a decision in order, and an error line for a bad one, exiting 1', async () => {
    const { code, lines } = await explain(`${JSON.stringify(situation)}\nnot json\n${JSON.stringify({ ...situation, currentReplicas: 4, pods: [] })}\n`);
    expect(code).toBe(1);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toEqual({
      desiredReplicas: 4,
      metrics: [
        { type: 'Resource', name: 'cpu', current: '45', target: '60', proposal: 2 },
        { type: 'Pods', name: 'http_requests_per_second', current: '290', target: '100', proposal: 6 },
      ],
      reason: expect.stringMatching(/http_requests_per_second 290 vs target 100: above target, proposes 6; limited by scaleUp policy Percent 100 per 15s/),
    });
    expect(lines[1]).toEqual({ error: expect.stringMatching(/^not JSON/) });
    expect(lines[2]).toMatchObject({ desiredReplicas: 4, reason: expect.stringMatching(/no scaling: invalid metrics/) });
  });

  it('exits 0 when every line is understood', async () => {
    const { code, lines } = await explain(`${JSON.stringify(situation)}\n`);
    expect(code).toBe(0);
    expect(lines).toHaveLength(1);
  });
});
