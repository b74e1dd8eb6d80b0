import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { LabPod } from '@podscale/cli/lab/pod.ts';
import { until } from '@podscale/process/net.ts';
import { SERVER_ENTRY } from '../../../../test/helpers/child.ts';

const clock = () => performance.now() / 1000;

function pod(liveness: { path: string; failureThreshold: number }): LabPod {
  return new LabPod({
    name: 'podscale-test-1',
    revision: 1,
    serverEntry: SERVER_ENTRY,
    // A short drain, so that the restart's SIGTERM is answered within the test's bounds.
    env: { SHUTDOWN_DELAY_MS: '200', SHUTDOWN_TIMEOUT_MS: '5000' },
    namespace: 'podscale',
    probes: {
      startup: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1, failureThreshold: 30 },
      readiness: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 1 },
      liveness: { httpGet: { path: liveness.path, port: 'http' }, periodSeconds: 1, failureThreshold: liveness.failureThreshold },
    },
    terminationGracePeriodSeconds: 10,
    clock,
  });
}

describe('LabPod: a container as kubelet runs it (the prober the node agent uses)', () => {
  const pods: LabPod[] = [];
  afterEach(async () => {
    for (const p of pods.splice(0)) {
      p.terminate();
      if (p.process?.running) await p.process.exited;
    }
  });

  it('a failing liveness probe restarts the container in place through SIGTERM (it drains and exits 0), and the pod is ready again', { timeout: 60_000 }, async () => {
    const labPod = pod({ path: '/no-such-route', failureThreshold: 3 });
    const started = performance.now();
    pods.push(labPod);
    const readiness: boolean[] = [];
    labPod.on('readiness', (ready) => readiness.push(ready));
    const exited: unknown[] = [];
    labPod.on('exited', (exit) => exited.push(exit));
    await labPod.start();
    const { port, name } = labPod;
    const firstPid = labPod.pid;
    const [restart] = (await once(labPod, 'restarted')) as [{ reason: string; restartCount: number; code: number | null; signal: string | null }];
    expect(restart).toEqual({ reason: 'liveness', restartCount: 1, code: 0, signal: null });
    await until(async () => labPod.ready === true && labPod.pid !== firstPid, { timeoutMs: 20_000, intervalMs: 100, what: 'the restarted container ready' });
    expect({ name: labPod.name, port: labPod.port, restartCount: labPod.restartCount, phase: labPod.phase }).toEqual({ name, port, restartCount: 1, phase: 'Running' });
    // The same scenario as the node agent's and kubelet's (test/helpers/liveness-scenario.ts).
    console.info(`liveness scenario (lab): ${JSON.stringify({ restartCount: labPod.restartCount, lastTerminated: { exitCode: restart.code }, ready: labPod.ready, seconds: Math.round((performance.now() - started) / 100) / 10 })}`);
    expect(readiness).toEqual([true, false, true]);
    expect(exited).toEqual([]);
  });

  it('deletion: SIGTERM, the drain, exit 0, phase Succeeded, and no restart', { timeout: 30_000 }, async () => {
    const labPod = pod({ path: '/healthz', failureThreshold: 3 });
    pods.push(labPod);
    await labPod.start();
    await until(async () => labPod.ready === true, { timeoutMs: 20_000, intervalMs: 100, what: 'ready' });
    const exited = once(labPod, 'exited');
    labPod.terminate();
    expect(((await exited) as [unknown])[0]).toEqual({ crashed: false, code: 0, signal: null });
    expect({ phase: labPod.phase, restartCount: labPod.restartCount }).toEqual({ phase: 'Succeeded', restartCount: 0 });
  });
});
