import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Component } from '@podscale/process/components.ts';
import { until } from '@podscale/process/net.ts';
import { alive } from '../src/alive.ts';

/** A program that says it started and then runs until it is stopped (or exits with argv's code after argv's ms). */
const PROGRAM = `console.log('up', process.pid); const [ms, code] = process.argv.slice(1).map(Number); if (ms) setTimeout(() => process.exit(code), ms); else setInterval(() => {}, 1000);`;


describe('Component supervision: a dead control-plane program is restarted with back-off, and says so', () => {
  const components: Component[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    const pids = components.map((component) => component.process.childPid!);
    for (const component of components.splice(0)) await component.stop(2000);
    for (const pid of pids) expect(alive(pid), `pid ${pid} left behind`).toBe(false);
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  async function start(args: string[], supervise: ((line: string) => void) | undefined) {
    const logDir = await mkdtemp(join(tmpdir(), 'podscale-supervise-'));
    dirs.push(logDir);
    const component = await Component.start('fake-etcd', process.execPath, ['-e', PROGRAM, ...args], { logDir, graceMs: 2000, ...(supervise ? { supervise } : {}) });
    components.push(component);
    return component;
  }

  it('SIGKILLed: logged with the signal, restarted at once as a new process, and its output kept in one log file', { timeout: 20_000 }, async () => {
    const lines: string[] = [];
    const component = await start([], (line) => lines.push(line));
    const first = component.process.childPid!;
    await until(async () => (await readFile(component.logFile, 'utf8')).includes(`up ${first}`), { timeoutMs: 5000, intervalMs: 20, what: 'the first run in the log' });
    process.kill(first, 'SIGKILL');
    await until(async () => lines.length === 2, { timeoutMs: 10_000, intervalMs: 20, what: 'the restart' });
    const second = component.process.childPid!;
    expect(second).not.toBe(first);
    expect(lines).toEqual([`fake-etcd exited (exit status 137 (signal 9)); restarting in 0 ms (restart 1)`, `fake-etcd restarted (pid ${second}, restart 1)`]);
    await until(async () => (await readFile(component.logFile, 'utf8')).includes(`up ${second}`), { timeoutMs: 5000, intervalMs: 20, what: 'the second run in the log' });
  });

  it("a program that keeps exiting is restarted with kubelet's back-off (at once, then 10 s), each exit status logged", { timeout: 40_000 }, async () => {
    const lines: string[] = [];
    const component = await start(['50', '3'], (line) => lines.push(line));
    await until(async () => lines.length >= 3, { timeoutMs: 10_000, intervalMs: 20, what: 'the first restart and the second exit' });
    const secondExitAt = performance.now();
    await until(async () => lines.length >= 4, { timeoutMs: 25_000, intervalMs: 20, what: 'the second restart' });
    expect(performance.now() - secondExitAt).toBeGreaterThanOrEqual(9_900);
    expect(lines[0]).toBe('fake-etcd exited (exit status 3); restarting in 0 ms (restart 1)');
    expect(lines[2]).toBe('fake-etcd exited (exit status 3); restarting in 10000 ms (restart 2)');
    expect(component.restarts).toBe(2);
  });

  it('stop() is final: no restart after it, and without supervise nothing restarts at all', { timeout: 20_000 }, async () => {
    const lines: string[] = [];
    const supervised = await start([], (line) => lines.push(line));
    const unsupervised = await start(['50', '0'], undefined);
    await supervised.stop(2000);
    await unsupervised.process.exited;
    const after = performance.now();
    await until(async () => performance.now() - after > 1500, { timeoutMs: 3000, intervalMs: 100, what: 'a second, long enough for any restart at once' });
    expect(lines).toEqual([]);
    expect([supervised.running, unsupervised.running, supervised.restarts, unsupervised.restarts]).toEqual([false, false, 0, 0]);
  });
});
