import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { binaryPath, type ClusterBinary } from './binaries.ts';

/** What an image runs, as a container runtime reads it from the image config. */
export interface ImageConfig {
  entrypoint: string[];
  cmd: string[];
  /** The host directory that stands in for the image's working directory. */
  workingDir: string;
  env: Record<string, string>;
  user?: { uid: number; gid: number };
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Upstream images the kit uses, run as the binaries built from the same releases: each image's
 * ENTRYPOINT and CMD as its Dockerfile declares them (prometheus/prometheus's Dockerfile,
 * prometheus-adapter's and metrics-server's distroless images), with the binary in place of the
 * image's copy.
 */
const UPSTREAM_IMAGES: Record<string, { binary: ClusterBinary; cmd: string[]; workingDir?: string }> = {
  'quay.io/prometheus/prometheus': { binary: 'prometheus', cmd: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'], workingDir: '/prometheus' },
  'registry.k8s.io/prometheus-adapter/prometheus-adapter': { binary: 'prometheus-adapter', cmd: [] },
  'registry.k8s.io/metrics-server/metrics-server': { binary: 'metrics-server', cmd: [] },
};

function repositoryOf(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
}

/**
 * Resolves an image name the way this node can run it. podscale's own images are the stages of the
 * repository's Dockerfile — `podscale` is the final (default) stage, `podscale-<stage>` a named
 * one — run from the repository (which stands in for the image's WORKDIR) with the stage's
 * ENTRYPOINT, CMD, ENV and USER.
 */
export async function resolveImage(image: string, repoRoot: string): Promise<ImageConfig> {
  const repository = repositoryOf(image);
  const upstream = UPSTREAM_IMAGES[repository];
  if (upstream) return { entrypoint: [binaryPath(upstream.binary)], cmd: upstream.cmd, workingDir: upstream.workingDir ?? '/', env: { PATH: DEFAULT_PATH } };
  const stageName = repository === 'podscale' ? undefined : /^podscale-(.+)$/.exec(repository)?.[1];
  if (repository !== 'podscale' && stageName === undefined) {
    throw new Error(`image ${image} cannot be run by this node: it runs podscale's own images (from the Dockerfile) and ${Object.keys(UPSTREAM_IMAGES).join(', ')}`);
  }
  return dockerfileStage(join(repoRoot, 'Dockerfile'), stageName, repoRoot);
}

async function dockerfileStage(path: string, stageName: string | undefined, repoRoot: string): Promise<ImageConfig> {
  const dockerfile = DockerfileParser.parse(await readFile(path, 'utf8'));
  const stages: { name?: string; instructions: { keyword: string; args: string[]; json?: string[] }[] }[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const args = instruction.getArguments().map((argument) => argument.getValue());
    if (keyword === 'FROM') {
      const asIndex = args.findIndex((arg) => arg.toUpperCase() === 'AS');
      stages.push({ name: asIndex >= 0 ? args[asIndex + 1] : undefined, instructions: [] });
      continue;
    }
    const json = /^\s*\[/.test(instruction.getRawArgumentsContent() ?? '') ? (JSON.parse(instruction.getRawArgumentsContent() ?? '[]') as string[]) : undefined;
    stages.at(-1)?.instructions.push({ keyword, args, json });
  }
  const stage = stageName === undefined ? stages.at(-1) : stages.find((candidate) => candidate.name === stageName);
  if (!stage) throw new Error(`the Dockerfile has no stage named ${stageName}`);
  const config: ImageConfig = { entrypoint: [], cmd: [], workingDir: repoRoot, env: { PATH: DEFAULT_PATH } };
  // The checkout stands in for the image's WORKDIR, also in ENV values that point into it.
  let workdir: string | undefined;
  const inCheckout = (value: string) => (workdir && (value === workdir || value.startsWith(`${workdir}/`)) ? `${repoRoot.replace(/\/$/, '')}${value.slice(workdir.length)}` : value);
  for (const { keyword, args, json } of stage.instructions) {
    if (keyword === 'WORKDIR') workdir = (args[0] ?? '').replace(/\/$/, '');
    else if (keyword === 'ENTRYPOINT') config.entrypoint = json ?? ['/bin/sh', '-c', args.join(' ')];
    else if (keyword === 'CMD') config.cmd = json ?? ['/bin/sh', '-c', args.join(' ')];
    else if (keyword === 'ENV') {
      for (const pair of args) {
        const [key, ...value] = pair.split('=');
        if (key) config.env[key] = value.join('=');
      }
    } else if (keyword === 'USER') {
      const [uid, gid] = (args[0] ?? '').split(':').map(Number);
      if (uid !== undefined && Number.isInteger(uid)) config.user = { uid, gid: gid !== undefined && Number.isInteger(gid) ? gid : uid };
    }
  }
  for (const [key, value] of Object.entries(config.env)) config.env[key] = inCheckout(value);
  if (config.entrypoint.length === 0 && config.cmd.length === 0) throw new Error(`the Dockerfile stage ${stageName ?? '(final)'} has no CMD or ENTRYPOINT`);
  return config;
}
