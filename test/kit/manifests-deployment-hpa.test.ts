/**
 * The app's Deployment, Service, PodDisruptionBudget and HPA agree with each other: selectors,
 * ports, replica bounds, requests (which give "60 %" its meaning), the drain timing and the
 * hardening. Each object is valid alone; these are the mistakes only the set shows.
 */
import { describe, expect, it } from 'vitest';
import { findObject, type KubeObject } from '@podscale/cli/kit/manifests.ts';
import { container, deployment, env, hpa, kit } from './shipped-kit.ts';
import { decide } from '@podscale/hpa/decide.ts';
import { parseSituation } from '@podscale/hpa/explain.ts';

describe('the Deployment, Service, PDB and HPA agree', () => {
  it('the Service selects the pods and targets the named port', () => {
    const service = findObject<KubeObject & { spec: { selector: Record<string, string>; ports: { targetPort: string }[] } }>(kit, 'Service', 'podscale');
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(deployment.spec.selector.matchLabels).toEqual(service.spec.selector);
    expect(container.ports.map((port) => port.name)).toContain(service.spec.ports[0]!.targetPort);
  });

  it('the PDB selects the pods and keeps one', () => {
    const pdb = findObject<KubeObject & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }>(kit, 'PodDisruptionBudget');
    expect(deployment.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
  });

  it('the HPA targets the Deployment with min 2, max 10, CPU 60 % and 100 rps per pod, and an explicit behavior', () => {
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 10]);
    expect(hpa.spec.metrics.find((m) => m.type === 'Resource')!.resource).toEqual({ name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } });
    expect(hpa.spec.behavior.scaleUp).toBeDefined();
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThan(0);
    expect(deployment.spec.replicas).toBe(hpa.spec.minReplicas);
  });

  it('scales up at 5 % over a target and down at the cluster-wide 10 % (per-direction tolerance, Kubernetes 1.35+)', () => {
    expect(hpa.spec.behavior.scaleUp.tolerance).toBe('0.05');
    expect(hpa.spec.behavior.scaleDown.tolerance).toBeUndefined();
    // What the kit's HPA decides for 2 pods at 107 req/s each, through the port at the pinned minor.
    const pods = [{ name: 'a' }, { name: 'b' }];
    const situation = { spec: { ...hpa.spec, metrics: hpa.spec.metrics.filter((m) => m.type === 'Pods') }, currentReplicas: 2, now: 1000, pods, metrics: { pods: { http_requests_per_second: { a: '107', b: '107' } } } };
    expect(decide(parseSituation(JSON.stringify(situation))).desiredReplicas).toBe(3);
    expect(decide(parseSituation(JSON.stringify({ ...situation, spec: { ...situation.spec, behavior: {} } }))).desiredReplicas).toBe(2);
  });

  it('requests 100m CPU and 128Mi, so "60 %" means 60 millicores', () => {
    expect(container.resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(container.resources.limits.memory).toBeDefined();
  });

  it('the grace period outlasts the drain delay plus the close timeout; rollouts never reduce capacity', () => {
    const drainSeconds = (Number(env.SHUTDOWN_DELAY_MS) + Number(env.SHUTDOWN_TIMEOUT_MS)) / 1000;
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(drainSeconds);
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    // The readiness probe sees a drain (503) within one period, well inside the drain delay.
    expect(container.readinessProbe.periodSeconds * container.readinessProbe.failureThreshold).toBeLessThan(Number(env.SHUTDOWN_DELAY_MS) / 1000);
  });

  it('is hardened: non-root numeric UID, read-only root, no capabilities, no escalation, RuntimeDefault seccomp, no token', () => {
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: expect.any(Number), seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.topologySpreadConstraints[0]!.topologyKey).toBe('kubernetes.io/hostname');
  });
});
