import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '@podscale/kube-local/cluster.ts';
import { until } from '@podscale/process/net.ts';
import { ROOT } from '../helpers/child.ts';
import { clusterSkipReason, REAL_NODE_BINARIES } from '../helpers/cluster.ts';
import { runLivenessScenario } from '../helpers/liveness-scenario.ts';

const skip = (await clusterSkipReason(REAL_NODE_BINARIES)) ?? (await Cluster.unavailable('real').then((reason) => (reason ? (process.stderr.write(`skipped: ${reason}\n`), reason) : undefined)));

const DEPLOYMENTS = ['podscale', 'prometheus', 'prometheus-adapter'];

interface PodJson {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  status: { podIP?: string; qosClass?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { name: string; containerID?: string; restartCount: number; ready: boolean; lastState?: { terminated?: { reason?: string; exitCode?: number } } }[] };
}

async function pods(cluster: Cluster, namespace: string, selector: string): Promise<PodJson[]> {
  return (JSON.parse((await cluster.kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])).stdout) as { items: PodJson[] }).items.filter((pod) => !pod.metadata.deletionTimestamp);
}

/** The container's main process, as containerd's task list reports it. */
async function containerPid(cluster: Cluster, containerId: string): Promise<number> {
  const id = containerId.replace(/^containerd:\/\//, '');
  const tasks = await cluster.realNode!.containerd!.ctr(['-n', 'k8s.io', 'tasks', 'ls']);
  const line = tasks.split('\n').find((row) => row.startsWith(id));
  return Number(line?.split(/\s+/)[1]);
}

/** A cgroup v1 file of the process's cgroup in one hierarchy. */
async function cgroupFile(pid: number, hierarchy: string, file: string): Promise<string> {
  const path = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).split('\n').map((line) => line.split(':')).find(([, controllers]) => controllers?.split(',').includes(hierarchy))?.[2];
  return (await readFile(`/sys/fs/cgroup/${hierarchy}${path}/${file}`, 'utf8')).trim();
}

describe.skipIf(skip)('a real node: kubelet, containerd + runc, CNI and kube-proxy run the shipped kit', () => {
  let cluster: Cluster;
  let dir: string;
  let serviceUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podscale-real-'));
    const started = performance.now();
    cluster = await Cluster.start({ dir: join(dir, 'cluster'), repoRoot: ROOT, node: 'real', log: (line) => process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(1)} s] ${line}\n`) });
    process.stdout.write(`real node: cluster ready after ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    // The kit exactly as a user applies it (docs/deploying.md "Deploy to Kubernetes").
    await cluster.kubectl(['apply', '--server-side', '-k', join(ROOT, 'k8s')]);
    for (const deployment of DEPLOYMENTS) await cluster.kubectl(['rollout', 'status', '-n', 'podscale', `deployment/${deployment}`, '--timeout=180s']);
    process.stdout.write(`real node: the kit's Deployments available ${((performance.now() - started) / 1000).toFixed(1)} s after start\n`);
    serviceUrl = (JSON.parse(await readFile(cluster.servicesFile, 'utf8')) as Record<string, string>)['podscale/podscale'] ?? '';
  }, 420_000);

  afterAll(async () => {
    if (cluster) {
      await cluster.stop();
      // Nothing of the node is left: containers, shims, kubelet/containerd, mounts, cgroups, netns,
      // bridge, Kubernetes' iptables chains, sysctls.
      expect(await cluster.leftovers()).toEqual([]);
    }
    await rm(dir, { recursive: true, force: true });
  }, 180_000);

  it("runs podscale as a runc container with the Deployment's securityContext and limits (UID 10001, read-only root, no capabilities, CFS quota, memory limit), probed by kubelet", async () => {
    const [pod] = await pods(cluster, 'podscale', 'app.kubernetes.io/name=podscale');
    const status = pod!.status.containerStatuses![0]!;
    expect(status.containerID).toMatch(/^containerd:\/\//);
    const pid = await containerPid(cluster, status.containerID!);
    const procStatus = await readFile(`/proc/${pid}/status`, 'utf8');
    expect(procStatus).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
    expect(procStatus).toMatch(/^CapEff:\s+0+$/m);
    expect(procStatus).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(procStatus).toMatch(/^Seccomp:\s+2$/m);
    const rootMount = (await readFile(`/proc/${pid}/mountinfo`, 'utf8')).split('\n').find((line) => line.split(' ')[4] === '/');
    expect(rootMount?.split(' ')[5]).toMatch(/^ro\b/);
    expect(await cgroupFile(pid, 'cpu', 'cpu.cfs_quota_us')).toBe('100000');
    expect(await cgroupFile(pid, 'cpu', 'cpu.cfs_period_us')).toBe('100000');
    expect(await cgroupFile(pid, 'memory', 'memory.limit_in_bytes')).toBe(String(256 * 1024 * 1024));
    // Probes are kubelet's: its own probe metrics count them, for every probe the kit declares
    // (liveness starts once the startup probe has passed: its first run can take a period, 10 s).
    const successful = (container: string, type: string) => new RegExp(`prober_probe_total\\{container="${container}",namespace="podscale",[^}]*probe_type="${type}",result="successful"\\} [1-9]`);
    const expected = [...['Startup', 'Readiness', 'Liveness'].map((type) => ['podscale', type]), ['prometheus', 'Readiness'], ['prometheus', 'Liveness'], ['prometheus-adapter', 'Readiness']] as const;
    let probes = '';
    await until(async () => {
      probes = (await cluster.kubectl(['get', '--raw', '/api/v1/nodes/podscale-node/proxy/metrics/probes'])).stdout;
      return expected.every(([container, type]) => successful(container, type).test(probes));
    }, { timeoutMs: 30_000, intervalMs: 1000, what: `kubelet to have run every probe of the kit (${expected.map((pair) => pair.join(' ')).join(', ')})` });
    expect(serviceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  }, 60_000);

  it('enforces a CPU limit as CFS quota: a busy loop limited to 200m gets 0.2 cores and is throttled', async () => {
    await cluster.kubectl(['apply', '-f', '-'], JSON.stringify(testPod('cpu-hog', ['node', '-e', 'for (;;) {}'], { cpu: '200m', memory: '64Mi' })));
    await cluster.kubectl(['wait', '-n', 'default', 'pod/cpu-hog', '--for=condition=Ready', '--timeout=60s']);
    const [pod] = await pods(cluster, 'default', 'test=cpu-hog');
    const pid = await containerPid(cluster, pod!.status.containerStatuses![0]!.containerID!);
    const sample = async () => ({ at: performance.now(), usage: Number(await cgroupFile(pid, 'cpuacct', 'cpuacct.usage')), throttled: Number(/nr_throttled (\d+)/.exec(await cgroupFile(pid, 'cpu', 'cpu.stat'))?.[1]) });
    const before = await sample();
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const after = await sample();
    const cores = (after.usage - before.usage) / 1e9 / ((after.at - before.at) / 1000);
    process.stdout.write(`cpu-hog (limits.cpu 200m): ${cores.toFixed(3)} cores over 5 s, throttled ${after.throttled - before.throttled} of 50 periods\n`);
    await cluster.kubectl(['delete', 'pod', '-n', 'default', 'cpu-hog', '--grace-period=0', '--force', '--wait=true']);
    expect(cores).toBeGreaterThan(0.15);
    expect(cores).toBeLessThan(0.25);
    // Throttled at all: a loop without a quota never is. How many of the 50 periods depends on
    // the machine: with both cores busy (CI runs the suites side by side) the loop is not on a
    // core for whole periods and reaches its 20 ms in fewer of them (seen: 18 of 50 at 0.200 cores).
    expect(after.throttled - before.throttled).toBeGreaterThan(0);
  }, 120_000);

  it('OOM-kills a container over its memory limit and restarts it (restartPolicy Always)', async () => {
    await cluster.kubectl(['apply', '-f', '-'], JSON.stringify(testPod('memory-hog', ['node', '-e', 'const kept = []; setInterval(() => kept.push(Buffer.alloc(8 << 20, 1)), 20)'], { cpu: '100m', memory: '64Mi' })));
    let seen: PodJson['status']['containerStatuses'];
    await until(
      async () => {
        seen = (await pods(cluster, 'default', 'test=memory-hog'))[0]?.status.containerStatuses;
        return (seen?.[0]?.restartCount ?? 0) >= 1 && seen?.[0]?.lastState?.terminated?.reason === 'OOMKilled';
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'memory-hog OOMKilled and restarted' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; last status ${JSON.stringify(seen)}`);
    });
    process.stdout.write(`memory-hog (limits.memory 64Mi): ${JSON.stringify(seen?.[0]?.lastState)}, restarts ${seen?.[0]?.restartCount}\n`);
    expect(seen?.[0]?.lastState?.terminated?.exitCode).toBe(137);
    const events = (await cluster.kubectl(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.name=memory-hog', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}'])).stdout;
    expect(events).toMatch(/BackOff|Pulled|Started/);
    await cluster.kubectl(['delete', 'pod', '-n', 'default', 'memory-hog', '--grace-period=0', '--force', '--wait=true']);
  }, 120_000);

  it("restarts a container whose liveness probe fails in place, through SIGTERM and the grace period, and it is Ready again (kubelet's prober)", async () => {
    const outcome = await runLivenessScenario(cluster, 'podscale:0.1.0');
    process.stdout.write(`liveness scenario (real node, kubelet): ${JSON.stringify(outcome)}\n`);
    expect(outcome).toMatchObject({ restartCount: 1, ready: true, lastTerminated: { exitCode: 0, reason: 'Completed' } });
  }, 120_000);
});

/** A bare pod in `default` (no PodSecurity level there) running podscale's image with a command of the test's. */
function testPod(name: string, command: string[], limits: { cpu: string; memory: string }) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { test: name } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name, image: 'podscale:0.1.0', imagePullPolicy: 'IfNotPresent', command, resources: { requests: limits, limits }, securityContext: { runAsUser: 10001, runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } } }],
    },
  };
}
