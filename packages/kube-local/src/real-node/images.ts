import { spawn } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The images the kit's pods and the sandbox need, as scripts/build-images.sh names their archives. */
export const NODE_IMAGES = ['docker.io/library/podscale:latest', 'docker.io/library/podscale-controller:0.1.0', 'localhost/podscale/pause:3.10', 'quay.io/prometheus/prometheus:v3.5.0', 'registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0', 'registry.k8s.io/metrics-server/metrics-server:v0.9.0'];
export const SANDBOX_IMAGE = 'localhost/podscale/pause:3.10';

/**
 * Names the kit uses that the archives do not carry: k8s/app's kustomization pins
 * `podscale:<package version>` (the tag a release would push); the build names it `latest`.
 */
export async function imageAliases(repoRoot: string): Promise<[string, string][]> {
  const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  return [['docker.io/library/podscale:latest', `docker.io/library/podscale:${version}`]];
}

/**
 * containerd's root (content store, unpacked snapshots, its metadata): kept in the cache across
 * runs so that a cluster start imports only images whose archive changed. Each run's state,
 * socket and containers are its own (under the cluster directory), and removed when it stops.
 */
export function containerdRoot(): string {
  return join(process.env.PODSCALE_CACHE ?? join(homedir(), '.cache', 'podscale'), 'node', 'containerd-root');
}

export function archivesDir(): string {
  return join(process.env.PODSCALE_CACHE ?? join(homedir(), '.cache', 'podscale'), 'images', 'archives');
}

/** `<name>.tar` in the archive cache: a link to the archive of the image's current build. */
export function archiveOf(image: string): string {
  return join(archivesDir(), `${image.replace(/[/:]/g, '_')}.tar`);
}

export async function missingArchives(): Promise<string[]> {
  const missing: string[] = [];
  for (const image of NODE_IMAGES) if (!(await access(archiveOf(image)).then(() => true, () => false))) missing.push(image);
  return missing;
}

/** Builds the images (scripts/build-images.sh, cached), passing its progress lines to `log`. */
export async function buildImages(repoRoot: string, log: (line: string) => void): Promise<void> {
  const child = spawn('bash', [join(repoRoot, 'scripts/build-images.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    tail = (tail + text).slice(-4000);
    for (const line of text.split('\n')) if (line.startsWith('build-images:')) log(line);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`scripts/build-images.sh exited ${code}: ${tail}`);
}
