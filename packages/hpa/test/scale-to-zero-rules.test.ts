/**
 * reconcileAutoscaler's zero-replica rules per minor (horizontal.go of v1.34.4 and v1.36.3, the
 * same in v1.37.2 with HPAScaleToZero on by default): shouldComputeMetricsForZeroReplicas, the
 * raise to minReplicas after normalization, and the ScaledToZero condition on every rescale.
 */
import { describe, expect, it } from 'vitest';
import { decide } from '@podscale/hpa/decide.ts';
import { KUBERNETES_VERSIONS, type KubernetesVersion } from '@podscale/hpa/gates.ts';
import type { Decision, MetricSpec } from '@podscale/hpa/types.ts';
import { cpu, external, pods, qps, samples, sync } from './rules-fixtures.ts';

const lag = external({ type: 'Value', value: '10' });
const scaledToZeroOf = (decision: Decision) => decision.conditions?.find((c) => c.type === 'ScaledToZero');
const disabled = (decision: Decision) => decision.conditions?.[0]?.reason === 'ScalingDisabled';

describe('horizontal.go shouldComputeMetricsForZeroReplicas: at 0 current replicas, compute or disable', () => {
  // min, HPAScaleToZero, status ScaledToZero=True, an Object/External metric; 1.34/1.35; 1.36+ (notes §2.2)
  const rows: [number, boolean, boolean, boolean, 'compute' | 'disabled', 'compute' | 'disabled' | 'disabled, condition removed'][] = [
    [2, true, false, true, 'disabled', 'disabled'],
    [2, false, false, true, 'disabled', 'disabled, condition removed'],
    [2, true, true, true, 'disabled', 'compute'],
    [2, true, true, false, 'disabled', 'compute'],
    [2, false, true, true, 'disabled', 'disabled, condition removed'],
    [0, true, false, true, 'compute', 'disabled'],
    [0, false, false, false, 'compute', 'disabled, condition removed'],
    [0, true, true, true, 'compute', 'compute'],
    [0, true, true, false, 'compute', 'disabled'],
    [0, false, true, true, 'compute', 'disabled, condition removed'],
  ];
  const cases = rows.flatMap(([min, gate, scaledToZero, oe, before, after]) =>
    KUBERNETES_VERSIONS.map((version) => [version, min, gate, scaledToZero, oe, version === '1.34' || version === '1.35' ? before : after] as const),
  );

  it.each(cases)('%s: minReplicas %i, HPAScaleToZero %s, ScaledToZero=True %s, Object/External metric %s → %s', (kubernetesVersion, min, gate, scaledToZero, oe, expected) => {
    const metric: MetricSpec = oe ? lag : qps('10');
    const decision = decide({
      ...sync({ min, currentReplicas: 0, scaledToZero, metrics_: [metric], metrics: { external: { lag: ['25'] }, pods: { qps: {} } } }),
      kubernetesVersion,
      featureGates: { HPAScaleToZero: gate },
    });
    expect(disabled(decision)).toBe(expected !== 'compute');
    expect(decision.removedConditions).toEqual(expected === 'disabled, condition removed' ? ['ScaledToZero'] : undefined);
    if (expected === 'compute' && oe) expect(decision.desiredReplicas).toBe(Math.max(3, min)); // ceil(25 / 10), from zero
  });
});

describe('horizontal.go reconcileAutoscaler: the raise to minReplicas when scaling from a zero the HPA made', () => {
  // ceil(5 / 10) = 1 from zero; behavior policies allow it and ignore minReplicas on a scale-up
  const fromZero = (kubernetesVersion: KubernetesVersion) =>
    decide({ ...sync({ min: 2, currentReplicas: 0, scaledToZero: true, metrics_: [lag], metrics: { external: { lag: ['5'] } }, behavior: {} }), kubernetesVersion, featureGates: { HPAScaleToZero: true } });

  it.each(['1.36', '1.37'] as const)('%s: raised to minReplicas after normalization, ScalingLimited left as normalization set it', (kubernetesVersion) => {
    const decision = fromZero(kubernetesVersion);
    expect(decision.desiredReplicas).toBe(2);
    expect(decision.reason).toContain('raised to minReplicas 2');
    expect(decision.conditions).toContainEqual({ type: 'ScalingLimited', status: 'False', reason: 'DesiredWithinRange' });
  });

  it('1.34 and 1.35 never compute from zero with minReplicas ≠ 0, so never raise', () => {
    expect(disabled(fromZero('1.34'))).toBe(true);
    expect(disabled(fromZero('1.35'))).toBe(true);
  });
});

describe('horizontal.go reconcileAutoscaler: ScaledToZero on every successful rescale (1.36+)', () => {
  const toZero = (metric: MetricSpec) => sync({ min: 0, currentReplicas: 3, pods: pods(3), metrics_: [metric], metrics: { external: { lag: ['0'] }, resource: { cpu: samples([0, 0, 0]) } } });

  it('1.37: True when the HPA scales an Object/External HPA with minReplicas 0 to zero; False for any other rescale', () => {
    const down = decide(toZero(lag));
    expect(down.desiredReplicas).toBe(0);
    expect(scaledToZeroOf(down)).toEqual({ type: 'ScaledToZero', status: 'True', reason: 'ScaledToZero' });
    expect(down.reason).toContain('ScaledToZero=True');
    const cpuOnly = decide(toZero(cpu(50)));
    expect(cpuOnly.desiredReplicas).toBe(0);
    expect(scaledToZeroOf(cpuOnly)).toEqual({ type: 'ScaledToZero', status: 'False', reason: 'NotScaledToZero' });
  });

  it('1.36: the gate is off by default, so a rescale removes the condition; with the gate on it is set', () => {
    expect(decide({ ...toZero(lag), kubernetesVersion: '1.36' })).toMatchObject({ desiredReplicas: 0, removedConditions: ['ScaledToZero'] });
    expect(scaledToZeroOf(decide({ ...toZero(lag), kubernetesVersion: '1.36' }))).toBeUndefined();
    expect(scaledToZeroOf(decide({ ...toZero(lag), kubernetesVersion: '1.36', featureGates: { HPAScaleToZero: true } }))?.status).toBe('True');
  });

  it.each(['1.34', '1.35'] as const)('%s: no ScaledToZero condition exists', (kubernetesVersion) => {
    const decision = decide({ ...toZero(lag), kubernetesVersion, featureGates: { HPAScaleToZero: true } });
    expect(decision.desiredReplicas).toBe(0);
    expect(scaledToZeroOf(decision)).toBeUndefined();
    expect(decision.removedConditions).toBeUndefined();
  });

  it('the >maxReplicas and <minReplicas shortcuts rescale too: 1.37 sets NotScaledToZero, 1.36 removes, 1.34 has no conditions', () => {
    for (const shortcut of [sync({ currentReplicas: 12, max: 10, metrics_: [cpu(50)] }), sync({ currentReplicas: 1, min: 2, metrics_: [cpu(50)] })]) {
      expect(decide(shortcut).conditions).toEqual([{ type: 'ScaledToZero', status: 'False', reason: 'NotScaledToZero' }]);
      expect(decide({ ...shortcut, kubernetesVersion: '1.36' })).toMatchObject({ removedConditions: ['ScaledToZero'] });
      expect(decide({ ...shortcut, kubernetesVersion: '1.34' }).conditions).toBeUndefined();
    }
  });

  it('no rescale, or no valid metric, leaves the condition alone', () => {
    const steady = decide(sync({ currentReplicas: 3, pods: pods(3), metrics_: [cpu(50)], metrics: { resource: { cpu: samples([500, 500, 500]) } } }));
    expect(steady.desiredReplicas).toBe(3);
    const failed = decide(sync({ currentReplicas: 3, pods: pods(3), metrics_: [cpu(50)] }));
    expect(failed.conditions).toEqual([{ type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric' }]);
    for (const decision of [steady, decide({ ...sync({ currentReplicas: 3, pods: pods(3), metrics_: [cpu(50)] }), kubernetesVersion: '1.36' })]) {
      expect(scaledToZeroOf(decision)).toBeUndefined();
      expect(decision.removedConditions).toBeUndefined();
    }
  });
});
