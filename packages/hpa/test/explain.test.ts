import { describe, expect, it } from 'vitest';
import { explainLine, parseSituation } from '@podscale/hpa/explain.ts';

describe('podscale hpa explain input', () => {
  it("reads a pod's startTime and readySince as documented (docs/hpa-explain.md), in seconds", () => {
    const line = JSON.stringify({ spec: { maxReplicas: 4 }, currentReplicas: 1, now: 1000, pods: [{ name: 'p0', ready: true, startTime: 10, readySince: 20 }, { name: 'p1' }] });
    expect(parseSituation(line).pods).toEqual([
      { name: 'p0', ready: true, startTimeS: 10, readySinceS: 20 },
      { name: 'p1', startTimeS: undefined, readySinceS: undefined },
    ]);
  });

  it('checks kubernetesVersion, featureGates and scaledToZero', () => {
    const base = { spec: { maxReplicas: 4 }, currentReplicas: 1, now: 1000 };
    expect(parseSituation(JSON.stringify({ ...base, kubernetesVersion: '1.35', featureGates: { HPAScaleToZero: true }, scaledToZero: true }))).toMatchObject({ kubernetesVersion: '1.35', scaledToZero: true });
    expect(() => parseSituation(JSON.stringify({ ...base, kubernetesVersion: '1.33' }))).toThrow('kubernetesVersion must be one of "1.34", "1.35", "1.36", "1.37"');
    expect(() => parseSituation(JSON.stringify({ ...base, featureGates: ['HPAScaleToZero'] }))).toThrow('featureGates must be an object');
    expect(() => parseSituation(JSON.stringify({ ...base, scaledToZero: 'yes' }))).toThrow('scaledToZero must be true or false');
  });

  it('a scale from zero (minReplicas 0) needs "scaledToZero": true from 1.36; the option wins over the situation\'s minor', () => {
    const fromZero = {
      spec: { minReplicas: 0, maxReplicas: 10, metrics: [{ type: 'External', external: { metric: { name: 'lag' }, target: { type: 'Value', value: '100' } } }] },
      currentReplicas: 0,
      now: 1000,
      metrics: { external: { lag: '250' } },
    };
    const desired = (situation: object, kubernetesVersion?: '1.35') => (JSON.parse(explainLine(JSON.stringify(situation), { kubernetesVersion }).output) as { desiredReplicas: number }).desiredReplicas;
    expect(desired(fromZero)).toBe(0);
    expect(desired({ ...fromZero, scaledToZero: true })).toBe(3);
    expect(desired({ ...fromZero, kubernetesVersion: '1.35' })).toBe(3);
    expect(desired({ ...fromZero, kubernetesVersion: '1.37' }, '1.35')).toBe(3);
  });
});
