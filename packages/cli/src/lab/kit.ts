import { parse } from 'yaml';
import type { HpaSpec } from '@podscale/hpa/types.ts';
import type { ProbeSpec } from '@podscale/kube-local/probe.ts';
import { toMilli } from '@podscale/hpa/quantity.ts';
import { parseAdapterConfig, type AdapterRule } from '../kit/adapter-rule.ts';
import { findObject, loadKustomization, SHIPPED_KIT_DIR, type KubeObject } from '../kit/manifests.ts';
import type { PrometheusConfig } from './prometheus.ts';

/** What the lab takes from the shipped manifests: the same numbers a cluster would use. */
export interface LabKit {
  namespace: string;
  deploymentName: string;
  replicas: number;
  cpuRequestMilli: number;
  env: Record<string, string>;
  /** As the container declares them; unset fields take upstream's defaults (probeTiming). */
  probes: { readiness: ProbeSpec; liveness: ProbeSpec; startup?: ProbeSpec };
  maxSurge: number;
  maxUnavailable: number;
  terminationGracePeriodSeconds: number;
  hpa: HpaSpec;
  adapterRule: AdapterRule;
  prometheus: PrometheusConfig;
}

interface DeploymentSpec {
  replicas?: number;
  strategy?: { rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
  template: {
    spec: {
      terminationGracePeriodSeconds?: number;
      containers: {
        env?: { name: string; value?: string }[];
        resources?: { requests?: Record<string, string> };
        readinessProbe?: ProbeSpec;
        livenessProbe?: ProbeSpec;
        startupProbe?: ProbeSpec;
      }[];
    };
  };
}

/** maxSurge/maxUnavailable as a pod count for `replicas` (percentages round up and down like Kubernetes). */
function countOf(value: number | string | undefined, replicas: number, roundUp: boolean, fallback: string): number {
  const text = String(value ?? fallback);
  if (!text.endsWith('%')) return Number(text);
  const exact = (Number(text.slice(0, -1)) * replicas) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

function configMapFile(objects: KubeObject[], namePrefix: string, key: string): string {
  const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(namePrefix)) as (KubeObject & { data?: Record<string, string> }) | undefined;
  const text = map?.data?.[key];
  if (text === undefined) throw new Error(`the kit has no ConfigMap ${namePrefix} with ${key}`);
  return text;
}

export function loadLabKit(dir = SHIPPED_KIT_DIR, deploymentName = 'podscale'): LabKit {
  const objects = loadKustomization(dir);
  const deployment = findObject<KubeObject & { spec: DeploymentSpec }>(objects, 'Deployment', deploymentName);
  const container = deployment.spec.template.spec.containers[0]!;
  const hpaObject = objects.find(
    (o) => o.kind === 'HorizontalPodAutoscaler' && (o as { spec?: { scaleTargetRef?: { name?: string } } }).spec?.scaleTargetRef?.name === deploymentName,
  ) as (KubeObject & { spec: HpaSpec & { scaleTargetRef: unknown } }) | undefined;
  if (!hpaObject) throw new Error(`the kit has no HorizontalPodAutoscaler for ${deploymentName}`);
  const { scaleTargetRef: _target, ...hpa } = hpaObject.spec;
  const replicas = deployment.spec.replicas ?? 1;
  const rolling = deployment.spec.strategy?.rollingUpdate;
  const [adapterRule] = parseAdapterConfig(configMapFile(objects, 'prometheus-adapter-config', 'config.yaml'));
  return {
    namespace: deployment.metadata.namespace ?? 'default',
    deploymentName,
    replicas,
    cpuRequestMilli: toMilli(container.resources?.requests?.cpu ?? '0'),
    env: Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!])),
    probes: {
      readiness: container.readinessProbe ?? { httpGet: { path: '/readyz', port: 'http' } },
      liveness: container.livenessProbe ?? { httpGet: { path: '/healthz', port: 'http' } },
      ...(container.startupProbe ? { startup: container.startupProbe } : {}),
    },
    maxSurge: countOf(rolling?.maxSurge, replicas, true, '25%'),
    maxUnavailable: countOf(rolling?.maxUnavailable, replicas, false, '25%'),
    terminationGracePeriodSeconds: deployment.spec.template.spec.terminationGracePeriodSeconds ?? 30,
    hpa,
    adapterRule: adapterRule!,
    prometheus: parse(configMapFile(objects, 'prometheus-config', 'prometheus.yml')) as PrometheusConfig,
  };
}
