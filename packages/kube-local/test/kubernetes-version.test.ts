import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { KUBERNETES_VERSION } from '@podscale/kube-local/binaries.ts';
import { releaseOf, supportedReleases } from '@podscale/kube-local/releases.ts';

const read = (path: string) => readFile(new URL(`../../../${path}`, import.meta.url), 'utf8');

// One release, named in three places that different readers use: Go builds from go.mod, the build
// script checks the minors against it, and the TypeScript reports it.
describe('the pinned Kubernetes release', () => {
  it('is the one tools/cluster/kubernetes/go.mod requires', async () => {
    const pinned = /^\s*k8s\.io\/kubernetes (v[0-9.]+)/m.exec(await read('tools/cluster/kubernetes/go.mod'))?.[1];
    expect(pinned).toBe(KUBERNETES_VERSION);
  });

  it('is the newest of the supported minors, and every staging module is replaced at its release', async () => {
    expect(supportedReleases().at(-1)).toBe(KUBERNETES_VERSION);
    const staging = `v0.${KUBERNETES_VERSION.slice('v1.'.length)}`;
    const replaces = [...(await read('tools/cluster/kubernetes/go.mod')).matchAll(/^replace (k8s\.io\/\S+) => \S+ (v\S+)$/gm)];
    expect(replaces.length).toBeGreaterThan(25);
    expect(replaces.filter(([, , version]) => version !== staging)).toEqual([]);
  });
});

describe('releaseOf', () => {
  it('maps a minor, with or without v, and the exact release, to the supported release', () => {
    const [oldest] = supportedReleases();
    const minor = oldest!.replace(/^v(\d+\.\d+)\.\d+$/, '$1');
    expect(releaseOf(minor)).toBe(oldest);
    expect(releaseOf(`v${minor}`)).toBe(oldest);
    expect(releaseOf(oldest)).toBe(oldest);
    expect(releaseOf()).toBe(KUBERNETES_VERSION);
  });

  it('refuses an unsupported minor, another patch release and garbage, naming the supported releases', () => {
    for (const bad of ['1.34', 'v1.37.1', 'latest', '']) expect(() => releaseOf(bad)).toThrow(`is not a supported release: use one of ${supportedReleases().join(', ')}`);
  });
});
