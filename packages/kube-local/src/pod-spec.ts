import type { KubeObject } from './kube-client.ts';
import type { ContainerPort, ProbeSpec } from './probe.ts';

/* The parts of core/v1 Pod the node reads. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; configMapKeyRef?: { name: string; key: string; optional?: boolean }; secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
/** envFrom: every key of a ConfigMap or Secret as a variable, under an optional prefix. */
export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}
export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
}
export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  ports?: ContainerPort[];
  volumeMounts?: VolumeMount[];
  startupProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
  livenessProbe?: ProbeSpec;
  securityContext?: { runAsUser?: number; runAsGroup?: number };
}
export interface KeyToPath {
  key: string;
  path: string;
}
export interface ProjectedSource {
  serviceAccountToken?: { path: string; expirationSeconds?: number; audience?: string };
  configMap?: { name: string; items?: KeyToPath[] };
  downwardAPI?: { items: { path: string; fieldRef?: { fieldPath: string } }[] };
  secret?: { name: string; items?: KeyToPath[] };
}
export interface Volume {
  name: string;
  emptyDir?: object;
  configMap?: { name: string; items?: KeyToPath[]; optional?: boolean };
  secret?: { secretName: string; items?: KeyToPath[]; optional?: boolean };
  projected?: { sources: ProjectedSource[] };
}
export interface PodObject extends KubeObject {
  spec: {
    nodeName?: string;
    containers: ContainerSpec[];
    volumes?: Volume[];
    restartPolicy?: 'Always' | 'OnFailure' | 'Never';
    terminationGracePeriodSeconds?: number;
    serviceAccountName?: string;
    hostname?: string;
    subdomain?: string;
    securityContext?: { runAsUser?: number; runAsGroup?: number };
  };
  status?: Record<string, unknown>;
}
