import type { KubeClient } from './kube-client.ts';
import type { PodObject } from './pod-spec.ts';

/**
 * What a pod's volumes and environment are made of, read as kubelet reads them: ConfigMaps and
 * Secrets of its namespace, a bound service-account token, and the downward API's fields.
 */
export class PodSources {
  readonly #pod: PodObject;
  readonly #client: KubeClient;
  readonly #node: { nodeName: string; nodeIp: string };
  readonly #ip: () => string;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;

  constructor(pod: PodObject, client: KubeClient, node: { nodeName: string; nodeIp: string }, ip: () => string) {
    this.#pod = pod;
    this.#client = client;
    this.#node = node;
    this.#ip = ip;
    this.uid = pod.metadata.uid ?? '';
    this.namespace = pod.metadata.namespace ?? 'default';
    this.name = pod.metadata.name;
  }

  async read(resource: 'configmaps' | 'secrets', name: string, optional = false, base64 = false): Promise<Record<string, string>> {
    try {
      const object = await this.#client.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${this.namespace}/${resource}/${name}`);
      const data = object.data ?? {};
      return base64 ? Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')])) : data;
    } catch (error) {
      if (optional) return {};
      throw error;
    }
  }

  /** A bound service-account token for this pod (TokenRequest), as kubelet projects it. */
  async token(source: { expirationSeconds?: number; audience?: string }): Promise<string> {
    const serviceAccount = this.#pod.spec.serviceAccountName ?? 'default';
    const request = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: source.audience ? [source.audience] : [], expirationSeconds: source.expirationSeconds ?? 3607, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: this.name, uid: this.uid } },
    };
    const response = await this.#client.call<{ status: { token: string } }>('POST', `/api/v1/namespaces/${this.namespace}/serviceaccounts/${serviceAccount}/token`, request);
    return response.status.token;
  }

  field(fieldPath: string): string {
    const labels = this.#pod.metadata.labels ?? {};
    const annotations = this.#pod.metadata.annotations ?? {};
    const label = /^metadata\.labels\['(.+)'\]$/.exec(fieldPath);
    if (label?.[1]) return labels[label[1]] ?? '';
    const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(fieldPath);
    if (annotation?.[1]) return annotations[annotation[1]] ?? '';
    const fields: Record<string, string> = {
      'metadata.name': this.name,
      'metadata.namespace': this.namespace,
      'metadata.uid': this.uid,
      'spec.nodeName': this.#node.nodeName,
      'spec.serviceAccountName': this.#pod.spec.serviceAccountName ?? 'default',
      'status.podIP': this.#ip(),
      'status.podIPs': this.#ip(),
      'status.hostIP': this.#node.nodeIp,
      'status.hostIPs': this.#node.nodeIp,
    };
    const value = fields[fieldPath];
    if (value === undefined) throw new Error(`fieldRef ${fieldPath} is not supported`);
    return value;
  }
}
