import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { probeOnce, type ProbeSpec } from '@podscale/kube-local/probe.ts';
import { ContainerProber, ProbeResult, type ProbeKind } from '@podscale/kube-local/prober.ts';
import { until } from '@podscale/process/net.ts';

/*
 * kubelet's prober semantics, from pkg/kubelet/prober/worker.go (v1.34.4): the initial result per
 * kind, runs of results against the thresholds, startup gating, initialDelaySeconds, the hold after
 * a verdict that restarts the container, and what a pod's deletion stops.
 */

describe('ProbeResult: when a run of outcomes counts (worker.go doProbe)', () => {
  const cases: { name: string; kind: ProbeKind; spec: ProbeSpec; outcomes: boolean[]; values: (boolean | undefined)[] }[] = [
    { name: 'readiness starts as failure; one success makes it ready (successThreshold 1)', kind: 'readiness', spec: {}, outcomes: [true], values: [true] },
    { name: 'readiness leaves ready only after failureThreshold (3) failures in a row', kind: 'readiness', spec: {}, outcomes: [true, false, false, false], values: [true, true, true, false] },
    { name: 'a success in between starts the failure run over', kind: 'readiness', spec: {}, outcomes: [true, false, false, true, false, false, false], values: [true, true, true, true, true, true, false] },
    { name: 'successThreshold 2 needs two successes in a row', kind: 'readiness', spec: { successThreshold: 2 }, outcomes: [true, false, true, true], values: [false, false, false, true] },
    { name: 'failures below the threshold leave a not-ready container not ready', kind: 'readiness', spec: { failureThreshold: 2 }, outcomes: [false, false, true], values: [false, false, true] },
    { name: 'liveness starts as success and fails after failureThreshold failures', kind: 'liveness', spec: { failureThreshold: 2 }, outcomes: [false, false], values: [true, false] },
    { name: 'liveness failures interrupted by a success do not count', kind: 'liveness', spec: {}, outcomes: [false, false, true, false, false], values: [true, true, true, true, true] },
    { name: 'startup starts unknown and is decided by one success', kind: 'startup', spec: { failureThreshold: 30 }, outcomes: [false, false, true], values: [undefined, undefined, true] },
    { name: 'startup fails after failureThreshold failures', kind: 'startup', spec: { failureThreshold: 3 }, outcomes: [false, false, false], values: [undefined, undefined, false] },
  ];
  for (const { name, kind, spec, outcomes, values } of cases) {
    it(name, () => {
      const result = new ProbeResult(kind, spec);
      expect(result.value).toBe(kind === 'readiness' ? false : kind === 'liveness' ? true : undefined);
      expect(outcomes.map((ok) => (result.record(ok), result.value))).toEqual(values);
    });
  }
});

/** A prober over scripted outcomes that records every attempt and event with its time. */
function scripted(probes: { startup?: ProbeSpec; readiness?: ProbeSpec; liveness?: ProbeSpec }, outcome: (kind: ProbeKind, attempt: number) => boolean) {
  const t0 = performance.now();
  const attempts: { kind: ProbeKind; ms: number }[] = [];
  const events: string[] = [];
  // Each probe is its own object: the check learns its kind by identity.
  const kindOf = new Map<ProbeSpec, ProbeKind>(Object.entries(probes).map(([kind, spec]) => [spec, kind as ProbeKind]));
  const prober = new ContainerProber(
    probes,
    async (spec) => {
      const kind = kindOf.get(spec)!;
      attempts.push({ kind, ms: performance.now() - t0 });
      return outcome(kind, attempts.filter((a) => a.kind === kind).length);
    },
    { started: () => events.push('started'), ready: (ready) => events.push(ready ? 'ready' : 'unready'), unhealthy: (kind, failures) => events.push(`${kind} failed ${failures}×`) },
  );
  const count = (kind: ProbeKind) => attempts.filter((a) => a.kind === kind).length;
  return { prober, attempts, events, count };
}

// Periods of 50 ms keep the table fast; the prober takes the spec's seconds as they are.
const FAST = { periodSeconds: 0.05 } as const;

describe('ContainerProber: the schedule kubelet keeps', () => {
  const probers: ContainerProber[] = [];
  afterEach(() => {
    for (const prober of probers.splice(0)) prober.stop();
  });

  it('runs only the startup probe until it succeeds, then readiness at once and liveness', async () => {
    const run = scripted({ startup: { ...FAST, failureThreshold: 10 }, readiness: { ...FAST }, liveness: { ...FAST } }, (kind, n) => kind !== 'startup' || n >= 3);
    probers.push(run.prober);
    await until(async () => run.count('liveness') >= 2, { timeoutMs: 5000, intervalMs: 10, what: 'liveness probes' });
    const firstOther = run.attempts.findIndex((a) => a.kind !== 'startup');
    expect(run.attempts.slice(0, firstOther).map((a) => a.kind)).toEqual(['startup', 'startup', 'startup']);
    expect(run.count('startup')).toBe(3);
    expect(run.events.slice(0, 2)).toEqual(['started', 'ready']);
    // The readiness probe is triggered when startup succeeds, not a period later.
    const startupDone = run.attempts[firstOther - 1]!.ms;
    expect(run.attempts.find((a) => a.kind === 'readiness')!.ms - startupDone).toBeLessThan(40);
  });

  it('skips a probe until initialDelaySeconds have passed since the container started', async () => {
    const run = scripted({ readiness: { ...FAST, initialDelaySeconds: 0.4 } }, () => true);
    probers.push(run.prober);
    await until(async () => run.count('readiness') >= 1, { timeoutMs: 5000, intervalMs: 10, what: 'a readiness probe' });
    expect(run.attempts[0]!.ms).toBeGreaterThanOrEqual(400);
    expect(run.events).toEqual(['started', 'ready']);
  });

  it('reports a failed liveness probe once, after failureThreshold failures, and holds until the container is replaced', async () => {
    const run = scripted({ readiness: { ...FAST }, liveness: { ...FAST, failureThreshold: 3 } }, (kind) => kind === 'readiness');
    probers.push(run.prober);
    await until(async () => run.events.includes('liveness failed 3×'), { timeoutMs: 5000, intervalMs: 10, what: 'the liveness verdict' });
    const readinessThen = run.count('readiness');
    await until(async () => run.count('readiness') >= readinessThen + 4, { timeoutMs: 5000, intervalMs: 10, what: 'more readiness probes' });
    expect(run.count('liveness')).toBe(3);
    expect(run.events.filter((e) => e.startsWith('liveness'))).toEqual(['liveness failed 3×']);
  });

  it('a startup probe that never succeeds is reported once; readiness and liveness never run', async () => {
    const run = scripted({ startup: { ...FAST, failureThreshold: 4 }, readiness: { ...FAST }, liveness: { ...FAST } }, () => false);
    probers.push(run.prober);
    await until(async () => run.events.includes('startup failed 4×'), { timeoutMs: 5000, intervalMs: 10, what: 'the startup verdict' });
    const after = performance.now();
    await until(async () => performance.now() - after > 200, { timeoutMs: 1000, intervalMs: 20, what: 'four more periods' });
    expect(run.attempts.map((a) => a.kind)).toEqual(['startup', 'startup', 'startup', 'startup']);
    expect(run.events).toEqual(['startup failed 4×']);
  });

  it("once the pod is being deleted, liveness stops and readiness goes on (a draining pod's readiness is still reported)", async () => {
    let draining = false;
    const run = scripted({ readiness: { ...FAST, failureThreshold: 2 }, liveness: { ...FAST } }, (kind) => kind === 'liveness' || !draining);
    probers.push(run.prober);
    await until(async () => run.count('liveness') >= 2 && run.events.includes('ready'), { timeoutMs: 5000, intervalMs: 10, what: 'steady probes' });
    run.prober.podDeleting();
    draining = true;
    const liveness = run.count('liveness');
    await until(async () => run.events.includes('unready'), { timeoutMs: 5000, intervalMs: 10, what: 'the drain seen by readiness' });
    expect(run.count('liveness')).toBeLessThanOrEqual(liveness + 1); // at most the one in flight
    expect(run.events).toEqual(['started', 'ready', 'unready']);
  });

  it('without a readiness probe a started container is ready; stop() ends all probing', async () => {
    const run = scripted({ liveness: { ...FAST } }, () => true);
    await until(async () => run.count('liveness') >= 2, { timeoutMs: 5000, intervalMs: 10, what: 'liveness probes' });
    expect(run.events).toEqual(['started', 'ready']);
    run.prober.stop();
    const stoppedAt = run.count('liveness');
    const after = performance.now();
    await until(async () => performance.now() - after > 200, { timeoutMs: 1000, intervalMs: 20, what: 'four periods' });
    expect(run.count('liveness')).toBe(stoppedAt);
  });
});

describe('probeOnce: one attempt as kubelet makes it', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    if (server) await new Promise((resolve) => server!.close(resolve));
    server = undefined;
  });

  it('counts 200–399 as success, 4xx/5xx and an answer slower than timeoutSeconds as failure', async () => {
    server = createServer((request, response) => {
      const delay = request.url === '/slow' ? 1500 : 0;
      setTimeout(() => {
        response.statusCode = Number(request.url?.slice(1)) || 200;
        response.end();
      }, delay);
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const target = { ip: '127.0.0.1', ports: [{ name: 'http', containerPort: port }] };
    const at = (path: string) => probeOnce({ httpGet: { path, port: 'http' }, timeoutSeconds: 1 }, target);
    expect(await Promise.all(['/200', '/302', '/399', '/404', '/503'].map(at))).toEqual([true, true, true, false, false]);
    const started = performance.now();
    expect(await at('/slow')).toBe(false);
    expect(performance.now() - started).toBeLessThan(1400);
  });
});
