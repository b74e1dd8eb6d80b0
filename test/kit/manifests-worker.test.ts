/**
 * k8s/worker, Kafka consumers scaled by an AutoScalerPolicy: its configuration is one the worker
 * loads, its policy names the Deployment and the brokers, group and topic the workers consume, and
 * the policy is valid against the shipped CRD.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES, loadConfig } from '@podscale/service/config.ts';
import { findObject, type KubeObject } from '@podscale/cli/kit/manifests.ts';
import { ROOT } from '../helpers/child.ts';
import { kustomizeBuild, validateObject } from '../helpers/kit.ts';
import { container, deployment, kit, type Container, type Deployment } from './shipped-kit.ts';

describe('k8s/worker: Kafka consumers scaled by an AutoScalerPolicy', () => {
  interface KafkaLagPolicy extends KubeObject {
    spec: { deploymentName: string; minReplicas: number; maxReplicas: number; metrics: { type: string; bootstrapServers: string[]; consumerGroup: string; topic: string; threshold: number }[] };
  }
  const objects = kustomizeBuild(join(ROOT, 'k8s/worker'));
  const worker = findObject<Deployment>(objects, 'Deployment', 'podscale-worker');
  const workerContainer = worker.spec.template.spec.containers[0]! as Container & { envFrom: { configMapRef: { name: string } }[] };
  const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === workerContainer.envFrom[0]!.configMapRef.name) as KubeObject & { data: Record<string, string> };
  const policy = findObject<KafkaLagPolicy>(objects, 'AutoScalerPolicy', 'podscale-worker');
  const workerEnv = { ...configMap.data, ...Object.fromEntries(workerContainer.env.filter((v) => v.value !== undefined).map((v) => [v.name, v.value!])) };

  it('is its own folder, outside the default stack, in the podscale namespace', () => {
    expect(kit.some((object) => object.metadata.name === 'podscale-worker')).toBe(false);
    for (const object of objects) expect(object.metadata.namespace).toBe('podscale');
  });

  it('runs the service image in worker mode with a configuration the worker accepts', () => {
    expect(workerContainer.image).toBe(container.image);
    for (const name of Object.keys(workerEnv)) expect(ENV_VARIABLES).toContain(name);
    const config = loadConfig(workerEnv);
    expect(config.worker).toMatchObject({ topic: configMap.data.KAFKA_TOPIC, groupId: configMap.data.KAFKA_GROUP_ID });
  });

  it('the policy scales this Deployment on the lag of the group and topic its workers consume, from the same brokers', () => {
    expect(policy.spec.deploymentName).toBe(worker.metadata.name);
    const [metric] = policy.spec.metrics;
    expect(metric).toMatchObject({ type: 'KafkaLag', consumerGroup: configMap.data.KAFKA_GROUP_ID, topic: configMap.data.KAFKA_TOPIC });
    expect(metric!.bootstrapServers).toEqual(configMap.data.KAFKA_BROKERS!.split(','));
    expect(worker.spec.replicas).toBeGreaterThanOrEqual(policy.spec.minReplicas);
  });

  it('probes readiness (joined the group) and liveness on the port the worker serves; the grace period outlasts its drain deadline', () => {
    const http = workerContainer.ports.find((port) => port.name === 'http')!;
    expect(http.containerPort).toBe(Number(workerEnv.PORT));
    expect([workerContainer.startupProbe, workerContainer.readinessProbe].map((probe) => probe.httpGet)).toEqual([{ path: '/readyz', port: 'http' }, { path: '/readyz', port: 'http' }]);
    expect(workerContainer.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(worker.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(Number(workerEnv.SHUTDOWN_TIMEOUT_MS) / 1000);
    expect(worker.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(worker.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(http.containerPort));
  });

  it("the policy validates against the shipped CRD's schema, and a broken one does not (so the build check can fail)", async () => {
    await expect(validateObject(policy)).resolves.toBeUndefined();
    const broken = structuredClone(policy) as unknown as { spec: { metrics: { threshold: unknown }[] } };
    broken.spec.metrics[0]!.threshold = 'lots';
    await expect(validateObject(broken as unknown as KubeObject)).rejects.toThrow(/threshold/);
  });

  it('is hardened like the service', () => {
    const pod = worker.spec.template.spec;
    expect(pod.securityContext).toEqual(deployment.spec.template.spec.securityContext);
    expect(workerContainer.securityContext).toEqual(container.securityContext);
    expect(pod.automountServiceAccountToken).toBe(false);
  });
});
