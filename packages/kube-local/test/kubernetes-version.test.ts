import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { KUBERNETES_VERSION } from '@podscale/kube-local/binaries.ts';

const read = (path: string) => readFile(new URL(`../../../${path}`, import.meta.url), 'utf8');

// One release, named in three places that different readers use: Go builds from go.mod, the build
// script checks the minors against it, and the TypeScript reports it.
describe('the pinned Kubernetes release', () => {
  it('is the one tools/cluster/kubernetes/go.mod requires', async () => {
    const pinned = /^\s*k8s\.io\/kubernetes (v[0-9.]+)/m.exec(await read('tools/cluster/kubernetes/go.mod'))?.[1];
    expect(pinned).toBe(KUBERNETES_VERSION);
  });

  it('is the newest of the supported minors, and every staging module is replaced at its release', async () => {
    const minors = (await read('tools/cluster/kubernetes-minors')).split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(minors.at(-1)).toBe(KUBERNETES_VERSION);
    const staging = `v0.${KUBERNETES_VERSION.slice('v1.'.length)}`;
    const replaces = [...(await read('tools/cluster/kubernetes/go.mod')).matchAll(/^replace (k8s\.io\/\S+) => \S+ (v\S+)$/gm)];
    expect(replaces.length).toBeGreaterThan(25);
    expect(replaces.filter(([, , version]) => version !== staging)).toEqual([]);
  });
});
