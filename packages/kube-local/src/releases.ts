import { readFileSync } from 'node:fs';
import { KUBERNETES_VERSION } from './binaries.ts';

/** kube-local runs from the repository's source, beside the list that scripts/build-cluster.sh builds from. */
const MINORS_FILE = new URL('../../../tools/cluster/kubernetes-minors', import.meta.url);

/** The supported Kubernetes releases (tools/cluster/kubernetes-minors), oldest first; the newest is KUBERNETES_VERSION. */
export function supportedReleases(): string[] {
  return readFileSync(MINORS_FILE, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** The supported release of a minor (`1.35`, `v1.35` or `v1.35.4`), or an error that lists the supported ones. */
export function releaseOf(version: string = KUBERNETES_VERSION): string {
  const releases = supportedReleases();
  const [, minor, patch] = /^v?(\d+\.\d+)(?:\.(\d+))?$/.exec(version.trim()) ?? [];
  const release = minor === undefined ? undefined : releases.find((candidate) => (patch === undefined ? candidate.startsWith(`v${minor}.`) : candidate === `v${minor}.${patch}`));
  if (release === undefined) {
    throw new Error(`Kubernetes ${version} is not a supported release: use one of ${releases.join(', ')} (or its minor, e.g. ${releases[0]!.replace(/^v(\d+\.\d+).*/, '$1')})`);
  }
  return release;
}

/** The minor of a release: `v1.35.4` → `1.35`. */
export function minorOf(release: string): string {
  return release.replace(/^v?(\d+\.\d+).*$/, '$1');
}
