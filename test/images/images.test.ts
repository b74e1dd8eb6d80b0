import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, until } from '@podscale/process/net.ts';
import { ROOT } from '../helpers/child.ts';

const run = promisify(execFile);

/** Why these tests cannot run here, or undefined: they need root's podman storage and runc. */
async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root (the images are built into root podman storage)';
  for (const tool of ['podman', 'runc']) {
    if (!(await run('sh', ['-c', `command -v ${tool}`]).then(() => true, () => false))) return `${tool} is missing (scripts/setup.sh --with-cluster installs it)`;
  }
  return undefined;
}
const skip = await skipReason();
if (skip) process.stderr.write(`skipped: images tests: ${skip}\n`);

const CLUSTER = join(process.env.PODSCALE_CACHE ?? join(homedir(), '.cache/podscale'), 'cluster');
const upstreamBuilt = ['prometheus', 'prometheus-adapter', 'metrics-server'].every((name) => existsSync(join(CLUSTER, name, name)));

/** As in docs/deploying.md ("The service image, built here", §8 of the shared notes): runc (crun refuses hybrid cgroups), limits no higher than the hard ones. */
const RUNTIME = ['--runtime', 'runc', '--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];
/** k8s/app/deployment.yaml's securityContext, as podman flags. */
const SECURITY = ['--read-only', '--user', '10001:10001', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];
const LABEL = `io.podscale.test=images-${process.pid}`;
let containerCount = 0;
const containerName = () => `podscale-images-test-${process.pid}-${++containerCount}`;

async function podman(args: string[], options: { allowFailure?: boolean } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('podman', args, { maxBuffer: 64 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: number };
    if (!options.allowFailure) throw new Error(`podman ${args.join(' ')} failed (${failed.code}): ${failed.stderr ?? ''}`);
    return { stdout: failed.stdout ?? '', stderr: failed.stderr ?? '', code: typeof failed.code === 'number' ? failed.code : 1 };
  }
}

/**
 * What these tests could leave behind: their own containers (by label), build containers (buildah's
 * working containers, which `podman build` removes when done), networks and mounted containers.
 */
async function leftovers(): Promise<{ containers: string[]; buildContainers: string[]; networks: string[]; mounts: string[] }> {
  const lines = (text: string) => text.split('\n').filter(Boolean).sort();
  return {
    containers: lines((await podman(['ps', '--all', '--quiet', '--filter', `label=${LABEL}`])).stdout),
    buildContainers: lines(await run('buildah', ['containers', '--quiet']).then(({ stdout }) => stdout, () => '')),
    networks: lines((await podman(['network', 'ls', '--format', '{{.Name}}'])).stdout),
    mounts: lines((await podman(['mount'])).stdout),
  };
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: response.status, body: await response.text() };
}

describe.skipIf(skip !== undefined)('images built here (scripts/build-images.sh)', () => {
  let before: Awaited<ReturnType<typeof leftovers>>;
  let buildSeconds = 0;

  beforeAll(async () => {
    before = await leftovers();
    const started = performance.now();
    // Cold: debootstrap + npm pack + two builds (~2.5 min here); warm: a second or two.
    const only = upstreamBuilt ? 'base,service,pause,upstream' : 'base,service,pause';
    const { stdout } = await run('bash', [join(ROOT, 'scripts/build-images.sh'), `--only=${only}`], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    buildSeconds = (performance.now() - started) / 1000;
    process.stdout.write(stdout.split('\n').filter((line) => line.startsWith('build-images:')).join('\n') + '\n');
  }, 900_000);

  afterAll(async () => {
    const mine = (await podman(['ps', '--all', '--quiet', '--filter', `label=${LABEL}`])).stdout.split('\n').filter(Boolean);
    if (mine.length > 0) await podman(['rm', '--force', '--time', '0', ...mine]);
    const after = await leftovers();
    expect(after).toEqual(before);
  }, 60_000);

  it('builds the service image from the Dockerfile, with the final stage holding only the bundle', async () => {
    const [image] = JSON.parse((await podman(['image', 'inspect', 'localhost/podscale:latest'])).stdout) as { Id: string; Size: number; Config: { User: string; Cmd: string[]; Env: string[]; WorkingDir: string } }[];
    expect(image).toBeDefined();
    expect(image!.Config.User).toBe('10001:10001');
    expect(image!.Config.Cmd).toEqual(['node', 'dist/service/server.mjs']);
    expect(image!.Config.WorkingDir).toBe('/app');
    expect(image!.Config.Env).toContain('NODE_ENV=production');
    const [base] = JSON.parse((await podman(['image', 'inspect', 'docker.io/library/node:24-bookworm-slim'])).stdout) as { Size: number }[];
    // The same image under the name a CRI runtime gives `image: podscale`.
    expect((await podman(['image', 'inspect', '--format', '{{.Id}}', 'docker.io/library/podscale:latest'])).stdout.trim()).toBe(image!.Id);

    const { stdout } = await podman(['run', '--rm', '--name', containerName(), '--label', LABEL, ...RUNTIME, ...SECURITY, '--network', 'none', '--entrypoint', 'sh', 'podscale', '-c', 'du -sk /app; find /app -maxdepth 3 | sort; node --version']);
    const appKiB = Number(stdout.split(/\s/)[0]);
    expect(stdout).toContain('/app/dist/service/server.mjs');
    expect(stdout).toContain('/app/dist/service/compile-cache');
    expect(stdout).not.toContain('node_modules');
    expect(appKiB).toBeLessThan(8 * 1024);
    process.stdout.write(
      `images: podscale:latest ${(image!.Size / 1e6).toFixed(1)} MB (base node:24-bookworm-slim ${(base!.Size / 1e6).toFixed(1)} MB, final stage adds /app: ${(appKiB / 1024).toFixed(1)} MiB); build-images.sh took ${buildSeconds.toFixed(1)} s\n`,
    );
  });

  it('serves /readyz and / with the Deployment securityContext, and drains on SIGTERM with exit 0', async () => {
    const port = await freePort();
    const name = containerName();
    // Published on 127.0.0.1 only; podman's bridge network into the container's own namespace.
    await podman(['run', '--detach', '--name', name, '--label', LABEL, ...RUNTIME, ...SECURITY, '--publish', `127.0.0.1:${port}:8080`, '--env', 'SHUTDOWN_DELAY_MS=2000', '--env', 'SHUTDOWN_TIMEOUT_MS=10000', 'podscale']);
    const url = `http://127.0.0.1:${port}`;
    await until(async () => (await get(`${url}/readyz`)).status === 200, { timeoutMs: 20_000, what: 'the container to answer /readyz' });
    const root = await get(`${url}/`);
    expect(root.status).toBe(200);
    expect(JSON.parse(root.body)).toMatchObject({ service: 'podscale' });
    // Also reachable at the container's own address on the bridge.
    const ip = (await podman(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', name])).stdout.trim();
    expect((await get(`http://${ip}:8080/readyz`)).status).toBe(200);

    await podman(['kill', '--signal', 'TERM', name]);
    // During SHUTDOWN_DELAY_MS it keeps serving, readiness 503.
    await until(async () => (await get(`${url}/readyz`)).status === 503, { timeoutMs: 1500, intervalMs: 50, what: '/readyz to answer 503 after SIGTERM' });
    const exitCode = Number((await podman(['wait', name])).stdout.trim());
    const logs = (await podman(['logs', name])).stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { phase?: string; signal?: string; exitCode?: number });
    expect(exitCode).toBe(0);
    expect(logs.filter((line) => line.phase).map((line) => line.phase)).toEqual(['drain', 'close', 'exit']);
    expect(logs.find((line) => line.phase === 'drain')?.signal).toBe('SIGTERM');
    expect(logs.find((line) => line.phase === 'exit')?.exitCode).toBe(0);
    await podman(['rm', name]);
  });

  it('podman stop -t 30 drains the service with exit 0', async () => {
    const name = containerName();
    await podman(['run', '--detach', '--name', name, '--label', LABEL, ...RUNTIME, ...SECURITY, '--network', 'none', '--env', 'SHUTDOWN_DELAY_MS=500', 'podscale']);
    await until(async () => (await podman(['logs', name])).stdout.includes('Server listening'), { timeoutMs: 20_000, what: 'the service to listen' });
    await podman(['stop', '--time', '30', name]);
    const state = (await podman(['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', name])).stdout.trim();
    expect(state).toBe('0 false');
    expect((await podman(['logs', name])).stdout).toContain('"phase":"exit"');
    await podman(['rm', name]);
  });

  it('the pause image sleeps until SIGTERM and exits 0', async () => {
    expect((await podman(['run', '--rm', '--name', containerName(), '--label', LABEL, ...RUNTIME, '--network', 'none', 'localhost/podscale/pause:3.10', '-v'])).stdout).toMatch(/^pause 3\.10/);
    const name = containerName();
    await podman(['run', '--detach', '--name', name, '--label', LABEL, ...RUNTIME, '--read-only', '--cap-drop', 'ALL', '--network', 'none', 'localhost/podscale/pause:3.10']);
    expect((await podman(['inspect', '--format', '{{.State.Running}} {{.Config.User}}', name])).stdout.trim()).toBe('true 65535:65535');
    await podman(['kill', '--signal', 'TERM', name]);
    expect((await podman(['wait', name])).stdout.trim()).toBe('0');
    await podman(['rm', name]);
  });

  describe.skipIf(!upstreamBuilt)('upstream images from the Go-built binaries', () => {
    it('prometheus --version exits 0 and the default CMD serves /-/ready as nobody', async () => {
      const version = await podman(['run', '--rm', '--name', containerName(), '--label', LABEL, ...RUNTIME, '--network', 'none', 'quay.io/prometheus/prometheus:v3.5.0', '--version']);
      expect(version.stdout).toContain('prometheus, version 3.5.0');
      const port = await freePort();
      const name = containerName();
      await podman(['run', '--detach', '--name', name, '--label', LABEL, ...RUNTIME, '--cap-drop', 'ALL', '--publish', `127.0.0.1:${port}:9090`, 'quay.io/prometheus/prometheus:v3.5.0']);
      await until(async () => (await get(`http://127.0.0.1:${port}/-/ready`)).status === 200, { timeoutMs: 30_000, what: 'Prometheus /-/ready' });
      expect((await podman(['inspect', '--format', '{{.Config.User}} {{.Config.WorkingDir}}', name])).stdout.trim()).toBe('nobody /prometheus');
      await podman(['stop', '--time', '10', name]);
      expect((await podman(['inspect', '--format', '{{.State.ExitCode}}', name])).stdout.trim()).toBe('0');
      await podman(['rm', name]);
    }, 60_000);

    it('metrics-server --version exits 0', async () => {
      const { stdout } = await podman(['run', '--rm', '--name', containerName(), '--label', LABEL, ...RUNTIME, '--network', 'none', 'registry.k8s.io/metrics-server/metrics-server:v0.9.0', '--version']);
      expect(stdout.trim()).not.toBe('');
    });

    it('prometheus-adapter starts and prints its usage (pflag exits 2 on --help, as upstream)', async () => {
      const result = await podman(['run', '--rm', '--name', containerName(), '--label', LABEL, ...RUNTIME, '--network', 'none', 'registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0', '--help'], { allowFailure: true });
      expect(result.stderr + result.stdout).toContain('Usage of /adapter');
      expect(result.stderr + result.stdout).toContain('--prometheus-url');
      expect(result.code).toBe(2);
    });
  });
});
