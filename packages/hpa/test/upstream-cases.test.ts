/**
 * The HPA port against cases transcribed from upstream Kubernetes
 * (pkg/controller/podautoscaler/replica_calculator_test.go and horizontal_test.go) and the HPA
 * documentation. Upstream tests use a 2 min CPU initialization period and a 10 s readiness delay,
 * pods started an hour before `now`, and a 0.1 tolerance; the helpers below reproduce that. A
 * case that names its minor runs on it; every other case holds on each minor.
 */
import { describe, expect, it } from 'vitest';
import { decide } from '@podscale/hpa/decide.ts';
import { KUBERNETES_VERSIONS } from '@podscale/hpa/gates.ts';
import { behaviorCases } from './upstream-cases-behavior.ts';
import { docCases } from './upstream-cases-docs.ts';
import { replicaCalculatorCases } from './upstream-cases-replica-calculator.ts';

const runs = [...replicaCalculatorCases, ...behaviorCases, ...docCases].flatMap((c) =>
  c.situation.kubernetesVersion !== undefined
    ? [[`${c.source} (${c.situation.kubernetesVersion})`, c] as const]
    : KUBERNETES_VERSIONS.map((kubernetesVersion) => [`${c.source} (${kubernetesVersion})`, { ...c, situation: { ...c.situation, kubernetesVersion } }] as const),
);

describe('HPA algorithm: cases from upstream', () => {
  it.each(runs)('%s', (_source, c) => {
    const decision = decide(c.situation);
    expect(decision.desiredReplicas).toBe(c.desired);
    if (c.current !== undefined) expect(decision.metrics[0]!.current).toBe(c.current);
    expect(decision.reason.length).toBeGreaterThan(10);
  });

  it('counts the transcribed cases', () => {
    expect(replicaCalculatorCases.length + behaviorCases.length + docCases.length).toBeGreaterThanOrEqual(45);
  });
});
