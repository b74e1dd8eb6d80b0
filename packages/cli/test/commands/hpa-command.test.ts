import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CLI } from '../../../../test/helpers/child.ts';

async function run(input: string, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'hpa', 'explain', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

async function explain(input: string, args: string[] = []): Promise<{ code: number | null; lines: unknown[] }> {
  const { code, stdout } = await run(input, args);
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

  // 2 pods at 105 % of the Pods target with behavior.scaleUp.tolerance 0.01: counted only where HPAConfigurableTolerance is on
  const tolerant = {
    ...situation,
    spec: { ...situation.spec, metrics: [situation.spec.metrics[1]], behavior: { scaleUp: { ...situation.spec.behavior.scaleUp, tolerance: '0.01' } } },
    metrics: { pods: { http_requests_per_second: { a: '105', b: '105' } } },
  };

  it('--kubernetes-version picks the minor (default 1.37); a situation may name its own, and the flag wins', async () => {
    const line = `${JSON.stringify(tolerant)}\n${JSON.stringify({ ...tolerant, kubernetesVersion: '1.34' })}\n`;
    const byDefault = await explain(line);
    expect(byDefault.lines.map((out) => (out as { desiredReplicas: number }).desiredReplicas)).toEqual([3, 2]);
    const pinned = await explain(line, ['--kubernetes-version', '1.34']);
    expect(pinned.lines.map((out) => (out as { desiredReplicas: number }).desiredReplicas)).toEqual([2, 2]);
  });

  it('a minor it does not know is a usage error naming the choices; a bad situation field is an error line', async () => {
    const flag = await run(`${JSON.stringify(situation)}\n`, ['--kubernetes-version', '1.38']);
    expect(flag.code).not.toBe(0);
    expect(flag.stderr).toContain("option '--kubernetes-version <minor>' argument '1.38' is invalid. Allowed choices are 1.34, 1.35, 1.36, 1.37.");
    const field = await explain(`${JSON.stringify({ ...situation, kubernetesVersion: 1.37 })}\n${JSON.stringify({ ...situation, featureGates: { HPAConfigurableTolerance: false } })}\n`);
    expect(field.code).toBe(1);
    expect(field.lines).toEqual([
      { error: 'kubernetesVersion must be one of "1.34", "1.35", "1.36", "1.37" (a minor, as a string); got 1.37' },
      { error: 'feature gate HPAConfigurableTolerance is locked to true in Kubernetes 1.37 (GA): remove the override, or set kubernetesVersion to "1.36" or earlier to set it to false' },
    ]);
  });

  it('--help lists the minors and what differs in each', async () => {
    const { stdout } = await run('', ['--help']);
    expect(stdout).toMatch(/--kubernetes-version <minor>[\s\S]*choices:\s+"1\.34",\s+"1\.35",\s+"1\.36",\s+"1\.37"\)/);
    for (const minor of ['1.34', '1.35', '1.36', '1.37']) expect(stdout).toMatch(new RegExp(`^  ${minor.replace('.', '\\.')}  `, 'm'));
  });
});
