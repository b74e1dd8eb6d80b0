import type { PodSources } from './pod-sources.ts';
import type { ContainerSpec, PodObject } from './pod-spec.ts';

/** A container's environment, in kubelet's order: the image's, the Service variables, envFrom, then env. */
export async function containerEnv(container: ContainerSpec, imageEnv: Record<string, string>, pod: PodObject, apiserver: { serviceHost: string; servicePort: number }, sources: PodSources): Promise<Record<string, string>> {
  const env: Record<string, string> = {
    ...imageEnv,
    HOSTNAME: pod.spec.hostname ?? pod.metadata.name,
    KUBERNETES_SERVICE_HOST: apiserver.serviceHost,
    KUBERNETES_SERVICE_PORT: String(apiserver.servicePort),
    KUBERNETES_SERVICE_PORT_HTTPS: String(apiserver.servicePort),
    KUBERNETES_PORT: `tcp://${apiserver.serviceHost}:${apiserver.servicePort}`,
  };
  // As kubelet: envFrom first, in order (a later source wins), then env, which wins over them all.
  // kubelet skips keys that are not valid variable names; so does this.
  for (const source of container.envFrom ?? []) {
    const data = source.configMapRef
      ? await sources.read('configmaps', source.configMapRef.name, source.configMapRef.optional)
      : source.secretRef
        ? await sources.read('secrets', source.secretRef.name, source.secretRef.optional, true)
        : {};
    for (const [key, value] of Object.entries(data)) {
      const name = `${source.prefix ?? ''}${key}`;
      if (/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) env[name] = value;
    }
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (from?.fieldRef) env[variable.name] = sources.field(from.fieldRef.fieldPath);
    else if (from?.configMapKeyRef) env[variable.name] = (await sources.read('configmaps', from.configMapKeyRef.name, from.configMapKeyRef.optional))[from.configMapKeyRef.key] ?? '';
    else if (from?.secretKeyRef) env[variable.name] = (await sources.read('secrets', from.secretKeyRef.name, from.secretKeyRef.optional, true))[from.secretKeyRef.key] ?? '';
    // $(VAR) references to earlier variables, as kubelet expands them.
    else env[variable.name] = (variable.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string) => env[name] ?? match);
  }
  return env;
}
