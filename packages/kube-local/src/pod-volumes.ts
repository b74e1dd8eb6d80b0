import { chmod, mkdir, writeFile as writeFileAt } from 'node:fs/promises';
import { join } from 'node:path';
import type { PodSources } from './pod-sources.ts';
import type { KeyToPath, PodObject } from './pod-spec.ts';

/** Each volume as a directory below the pod's, filled as kubelet fills it; returns name → path. */
export async function materializeVolumes(pod: PodObject, podDir: string, sources: PodSources): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  for (const volume of pod.spec.volumes ?? []) {
    const dir = join(podDir, 'volumes', volume.name);
    await mkdir(dir, { recursive: true });
    paths.set(volume.name, dir);
    if (volume.emptyDir) {
      // kubelet creates emptyDirs world-writable: the pod's user owns its scratch space.
      await chmod(dir, 0o777);
    } else if (volume.configMap) {
      await writeKeys(dir, await sources.read('configmaps', volume.configMap.name, volume.configMap.optional), volume.configMap.items);
    } else if (volume.secret) {
      await writeKeys(dir, await sources.read('secrets', volume.secret.secretName, volume.secret.optional, true), volume.secret.items);
    } else if (volume.projected) {
      for (const source of volume.projected.sources) {
        if (source.serviceAccountToken) await writeFile(dir, source.serviceAccountToken.path, await sources.token(source.serviceAccountToken));
        if (source.configMap) await writeKeys(dir, await sources.read('configmaps', source.configMap.name), source.configMap.items);
        if (source.secret) await writeKeys(dir, await sources.read('secrets', source.secret.name, false, true), source.secret.items);
        for (const item of source.downwardAPI?.items ?? []) if (item.fieldRef) await writeFile(dir, item.path, sources.field(item.fieldRef.fieldPath));
      }
    } else {
      throw new Error(`volume ${volume.name}: only emptyDir, configMap, secret and projected volumes are supported by the node agent`);
    }
  }
  return paths;
}

async function writeKeys(dir: string, data: Record<string, string>, items?: KeyToPath[]): Promise<void> {
  const selected = items ?? Object.keys(data).map((key) => ({ key, path: key }));
  for (const { key, path } of selected) await writeFile(dir, path, data[key] ?? '');
}

async function writeFile(dir: string, path: string, content: string): Promise<void> {
  const file = join(dir, path);
  await mkdir(join(file, '..'), { recursive: true });
  // defaultMode 0644, as kubelet writes volume files by default.
  await writeFileAt(file, content, { mode: 0o644 });
}
