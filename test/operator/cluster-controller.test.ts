/**
 * The AutoScalerPolicy controller against a real kube-apiserver (v1.37) and a real Prometheus.
 * There is no node: pods stay Pending, so desired replicas come from a Prometheus query over an
 * exporter the test controls, and what is observed is spec.replicas of the Deployment (written only
 * through deployments/scale). The controllers run as real child processes with the ServiceAccount
 * token of k8s/controller, so its RBAC is what they get.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from './harness.ts';
import { apply, controller, controllers, events, exporter, isMsg, jsonpath, k, namespaceWithDeployment, policy, prometheus, QUERY, replicas, setLag, skip, useOperatorCluster, waitFor } from './cluster-setup.ts';

useOperatorCluster({ forControllers: true });

describe.skipIf(skip)('the controller (real child processes, ServiceAccount credentials)', () => {
  // One Lease (RBAC allows only podscale-controller): each test's controllers release it at its end.
  afterEach(async () => {
    await Promise.all(controllers.map((c) => c.stop('SIGTERM')));
  });

  it('writes once within the cooldown, and the cooldown still holds after a restart', { timeout: 150_000 }, async () => {
    await namespaceWithDeployment('cool', 1);
    await setLag(30);
    const first = controller('cool-a', 'cool');
    await first.waitFor(isMsg('lease: became leader'));
    const createdAt = Date.now();
    await apply(policy('cool', { cooldownSeconds: 20 }));
    await waitFor('cool', 'deployment/web', 'jsonpath={.spec.replicas}=3');
    const scaled = await first.waitFor(isMsg('scaled'));
    expect(scaled).toMatchObject({ from: 1, to: 3 });
    process.stderr.write(`[operator] policy created → scale written: ${scaled.time as number - createdAt} ms\n`);

    // Two more changes requested within the cooldown: none is written.
    await setLag(60);
    await waitFor('cool', 'autoscalerpolicy/web', 'jsonpath={.status.desiredReplicas}=6');
    await waitFor('cool', 'autoscalerpolicy/web', 'condition=CooldownActive');
    await setLag(80);
    await first.waitFor(isMsg('decided', (l) => l.desired === 8 && l.write === false));
    expect(await replicas('cool')).toBe(3);

    // A new process (no memory of the write) reads the cooldown from status.lastScaleTime.
    await first.stop('SIGTERM');
    const second = controller('cool-b', 'cool');
    await second.waitFor(isMsg('decided', (l) => l.desired === 8 && l.write === false));
    expect(await replicas('cool')).toBe(3);

    await waitFor('cool', 'deployment/web', 'jsonpath={.spec.replicas}=8');
    const again = await second.waitFor(isMsg('scaled'));
    const gap = (again.time as number) - (scaled.time as number);
    process.stderr.write(`[operator] second write ${gap} ms after the first (cooldown 20 000 ms)\n`);
    expect(gap).toBeGreaterThanOrEqual(20_000);
    expect(gap).toBeLessThan(23_000);
    expect(first.count(isMsg('scaled')) + second.count(isMsg('scaled'))).toBe(2);
    const scaledEvents = (await events('cool')).filter((e) => e.reason === 'Scaled');
    expect(scaledEvents.map((e) => e.message).sort()).toEqual([expect.stringMatching(/^Scaled Deployment web from 1 to 3/), expect.stringMatching(/^Scaled Deployment web from 3 to 8/)]);
  });

  it('applies the floor of a schedule window at once when it starts, cooldown or not', { timeout: 150_000 }, async () => {
    await namespaceWithDeployment('sched', 1);
    await setLag(10); // the metric alone asks for 1
    const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
    // The first window is the minute already under way, so that it has begun when the policy
    // arrives: before a day's first entry, the day before's last one applies (windows wrap around
    // midnight), which would ask for 6 at once.
    const started = Math.floor(Date.now() / 60_000) * 60_000;
    let boundary = started + 60_000;
    if (boundary - Date.now() < 15_000) boundary += 60_000;
    // A resync far longer than the wait: a write near the boundary can only be the boundary's own.
    const resyncS = 30; // the most the controller accepts
    const c = controller('sched-a', 'sched', [`--resync=${resyncS}s`]);
    await c.waitFor(isMsg('lease: became leader'));
    await apply(policy('sched', { cooldownSeconds: 600, schedule: [{ time: hhmm(started), replicas: 3 }, { time: hhmm(boundary), replicas: 6 }] }));
    await waitFor('sched', 'deployment/web', 'jsonpath={.spec.replicas}=3');
    await waitFor('sched', 'autoscalerpolicy/web', 'condition=CooldownActive');
    await waitFor('sched', 'deployment/web', 'jsonpath={.spec.replicas}=6', '90s');
    const written = await c.waitFor(isMsg('scaled', (l) => l.to === 6));
    const late = (written.time as number) - boundary;
    process.stderr.write(`[operator] schedule window ${hhmm(boundary)} → floor written ${late} ms after it began, inside a 600 s cooldown\n`);
    expect(late).toBeGreaterThanOrEqual(0);
    // At the boundary, not at the next resync: a sixth of the resync leaves room for a busy machine.
    expect(late).toBeLessThan((resyncS * 1000) / 6);
    // The status is written after the scale, in the same reconcile: wait for it rather than race it.
    await waitFor('sched', 'autoscalerpolicy/web', `jsonpath={.status.scheduleEntry.time}=${hhmm(boundary)}`, '10s');
  });

  it('two replicas: only the leader writes; SIGKILL hands over within lease duration + retry period, SIGTERM at once', { timeout: 120_000 }, async () => {
    await namespaceWithDeployment('lead', 1);
    await setLag(20);
    const a = controller('lead-a', 'lead');
    await a.waitFor(isMsg('lease: became leader'));
    const b = controller('lead-b', 'lead');
    await b.waitFor(isMsg('informers started'));
    await apply(policy('lead'));
    await waitFor('lead', 'deployment/web', 'jsonpath={.spec.replicas}=2');
    await a.waitFor(isMsg('scaled'));
    await sleep(2_500); // a resync or two on both replicas
    expect(a.count(isMsg('scaled'))).toBe(1);
    expect(b.count(isMsg('decided'))).toBe(0);
    expect(b.count(isMsg('lease: became leader'))).toBe(0);

    const killedAt = Date.now();
    await a.stop('SIGKILL');
    const takeover = ((await b.waitFor(isMsg('lease: became leader'), 15_000)).time as number) - killedAt;
    process.stderr.write(`[operator] SIGKILL of the leader → new leader in ${takeover} ms (lease 4 s, retry 1 s)\n`);
    expect(takeover).toBeLessThan(4_000 + 1_200 + 1_000);
    await setLag(50);
    await waitFor('lead', 'deployment/web', 'jsonpath={.spec.replicas}=5');
    await b.waitFor(isMsg('scaled'));

    const c = controller('lead-c', 'lead');
    await c.waitFor(isMsg('informers started'));
    const terminatedAt = Date.now();
    await b.stop('SIGTERM');
    expect(b.count(isMsg('lease: released'))).toBe(1);
    const handover = ((await c.waitFor(isMsg('lease: became leader'), 10_000)).time as number) - terminatedAt;
    process.stderr.write(`[operator] SIGTERM of the leader → new leader in ${handover} ms\n`);
    expect(handover).toBeLessThan(2_500); // its next try, not the 4 s expiry
    await setLag(70);
    await waitFor('lead', 'deployment/web', 'jsonpath={.spec.replicas}=7');
    await c.waitFor(isMsg('scaled'));
    expect(a.count(isMsg('scaled')) + b.count(isMsg('scaled')) + c.count(isMsg('scaled'))).toBe(3);
  });

  it('refuses a Deployment an HPA also targets (Conflict=True, nothing written) until the HPA is gone', { timeout: 90_000 }, async () => {
    await namespaceWithDeployment('conflict', 2);
    await setLag(50);
    await apply({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'conflict' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    });
    const c = controller('conflict-a', 'conflict');
    await c.waitFor(isMsg('lease: became leader'));
    await apply(policy('conflict'));
    await waitFor('conflict', 'autoscalerpolicy/web', 'condition=Conflict');
    expect(await jsonpath(['-n', 'conflict', 'asp', 'web'], '{.status.conditions[?(@.type=="Conflict")].reason}')).toBe('HorizontalPodAutoscaler');
    await sleep(2_500); // a resync: still nothing written
    expect(await replicas('conflict')).toBe(2);
    expect(c.count(isMsg('scaled'))).toBe(0);
    expect(await events('conflict')).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'Conflict', message: expect.stringMatching(/also scaled by HorizontalPodAutoscaler web/) }));

    const deletedAt = Date.now();
    await k(['delete', 'hpa', 'web', '-n', 'conflict']);
    await waitFor('conflict', 'autoscalerpolicy/web', 'condition=Conflict=false', '10s');
    process.stderr.write(`[operator] HPA deleted → Conflict=False in ${Date.now() - deletedAt} ms (resync 2 s)\n`);
    expect(Date.now() - deletedAt).toBeLessThan(2_000 + 1_500);
    await waitFor('conflict', 'deployment/web', 'jsonpath={.spec.replicas}=5');

    // A second policy on the same Deployment: both refuse, until it is gone.
    await apply({ ...policy('conflict'), metadata: { name: 'twin', namespace: 'conflict' } });
    await waitFor('conflict', 'autoscalerpolicy/web', 'condition=Conflict', '10s');
    await waitFor('conflict', 'autoscalerpolicy/twin', 'condition=Conflict', '10s');
    expect(await jsonpath(['-n', 'conflict', 'asp', 'web'], '{.status.conditions[?(@.type=="Conflict")].reason}')).toBe('AutoScalerPolicy');
    await setLag(20);
    await waitFor('conflict', 'autoscalerpolicy/web', 'jsonpath={.status.observedGeneration}=1');
    await k(['delete', 'asp', 'twin', '-n', 'conflict']);
    await waitFor('conflict', 'autoscalerpolicy/web', 'condition=Conflict=false', '10s');
    await waitFor('conflict', 'deployment/web', 'jsonpath={.spec.replicas}=2');
    await c.waitFor(isMsg('scaled', (l) => l.to === 2));
  });

  it('holds replicas while Prometheus is down, says so, and recovers when it returns; serves health and metrics', { timeout: 120_000 }, async () => {
    await namespaceWithDeployment('outage', 1);
    await setLag(40);
    const c = controller('outage-a', 'outage');
    await c.waitFor(isMsg('lease: became leader'));
    await apply(policy('outage'));
    await apply({ ...policy('outage'), metadata: { name: 'tz', namespace: 'outage' }, spec: { ...policy('outage').spec, deploymentName: 'other', timeZone: 'Mars/Olympus' } });
    await waitFor('outage', 'deployment/web', 'jsonpath={.spec.replicas}=4');
    await waitFor('outage', 'autoscalerpolicy/tz', 'condition=Ready=false');
    expect(await jsonpath(['-n', 'outage', 'asp', 'tz'], '{.status.conditions[?(@.type=="Ready")].reason}')).toBe('InvalidTimeZone');

    await prometheus.stop();
    exporter.value = 0; // read as 0 this would scale to minReplicas
    await waitFor('outage', 'autoscalerpolicy/web', 'condition=ScalingActive=false', '20s');
    expect(await jsonpath(['-n', 'outage', 'asp', 'web'], '{.status.conditions[?(@.type=="ScalingActive")].message}')).toMatch(/could not be read; replicas are not lowered.*unreachable/);
    const seen = c.count(isMsg('decided', (l) => l.policy === 'outage/web'));
    await c.waitFor((l) => l.msg === 'decided' && l.policy === 'outage/web' && c.count(isMsg('decided', (m) => m.policy === 'outage/web')) >= seen + 2, 20_000, 'two more decisions');
    expect(await replicas('outage')).toBe(4);
    expect(await jsonpath(['-n', 'outage', 'asp', 'web'], '{.status.desiredReplicas}')).toBe('4');
    expect(await events('outage')).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'FailedGetMetrics' }));

    const metrics = await (await fetch(`http://127.0.0.1:${c.port}/metrics`)).text();
    expect(metrics).toMatch(/^podscale_controller_leader 1$/m);
    expect(metrics).toMatch(/^podscale_controller_errors_total\{kind="metric"\} [1-9]/m);
    expect(metrics).toMatch(/^podscale_controller_scale_operations_total\{direction="up"\} 1$/m);
    expect(metrics).toMatch(/^podscale_controller_reconciles_total\{result="ok"\} [1-9]/m);
    const count = Number(/^podscale_controller_decision_duration_seconds_count (\d+)/m.exec(metrics)?.[1]);
    const sum = Number(/^podscale_controller_decision_duration_seconds_sum (\S+)/m.exec(metrics)?.[1]);
    process.stderr.write(`[operator] decision latency: mean ${((sum / count) * 1000).toFixed(1)} ms over ${count} reconciles\n`);
    expect((await fetch(`http://127.0.0.1:${c.port}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${c.port}/healthz`)).status).toBe(200);

    const restartedAt = Date.now();
    await prometheus.start();
    exporter.value = 20;
    await prometheus.waitForValue(QUERY, 20);
    await waitFor('outage', 'autoscalerpolicy/web', 'condition=ScalingActive', '20s');
    await waitFor('outage', 'deployment/web', 'jsonpath={.spec.replicas}=2', '20s');
    process.stderr.write(`[operator] Prometheus back → scaled on fresh data ${Date.now() - restartedAt} ms after its restart\n`);
  });
});
