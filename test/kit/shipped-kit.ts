/**
 * The shipped kit (k8s/) as kubectl kustomize builds it, and the objects the manifests-*.test.ts
 * files hold against each other, against the app and against the Dockerfile: each file then states
 * only the agreement it checks. Read at import, so every file builds the kit it checks.
 */
import { parse } from 'yaml';
import { parseAdapterConfig } from '@podscale/cli/kit/adapter-rule.ts';
import { findObject, SHIPPED_KIT_DIR, type KubeObject } from '@podscale/cli/kit/manifests.ts';
import { kustomizeBuild } from '../helpers/kit.ts';

export interface Container {
  name: string;
  image: string;
  args?: string[];
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: string; valueFrom?: unknown }[];
  readinessProbe: { httpGet: { path: string; port: string | number }; periodSeconds: number; failureThreshold: number };
  livenessProbe: { httpGet: { path: string; port: string | number } };
  startupProbe: { httpGet: { path: string; port: string | number } };
  resources: { requests: { cpu: string; memory: string }; limits: Record<string, string> };
  securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; capabilities: { drop: string[] } };
}
export interface Deployment extends KubeObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    strategy: { type: string; rollingUpdate: { maxUnavailable: number | string; maxSurge: number | string } };
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds: number;
        automountServiceAccountToken: boolean;
        securityContext: { runAsNonRoot: boolean; runAsUser: number; runAsGroup: number; seccompProfile: { type: string } };
        topologySpreadConstraints: { topologyKey: string }[];
        containers: Container[];
      };
    };
  };
}
export interface Hpa extends KubeObject {
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicas: number;
    maxReplicas: number;
    metrics: { type: string; resource?: { name: string; target: { type: string; averageUtilization: number } }; pods?: { metric: { name: string }; target: { type: string; averageValue: string } } }[];
    behavior: { scaleUp: { tolerance?: string }; scaleDown: { stabilizationWindowSeconds: number; tolerance?: string } };
  };
}

export const kit = kustomizeBuild(SHIPPED_KIT_DIR);
export const deployment = findObject<Deployment>(kit, 'Deployment', 'podscale');
export const container = deployment.spec.template.spec.containers[0]!;
export const env = Object.fromEntries(container.env.map((variable) => [variable.name, variable.value]));
export const hpa = findObject<Hpa>(kit, 'HorizontalPodAutoscaler', 'podscale');
const adapterConfigMap = kit.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('prometheus-adapter-config')) as KubeObject & { data: Record<string, string> };
export const [rule] = parseAdapterConfig(adapterConfigMap.data['config.yaml']!);
const prometheusConfigMap = kit.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('prometheus-config')) as KubeObject & { data: Record<string, string> };
export const prometheusConfig = parse(prometheusConfigMap.data['prometheus.yml']!) as { global: { scrape_interval: string } };
export const adapter = findObject<Deployment>(kit, 'Deployment', 'prometheus-adapter');
