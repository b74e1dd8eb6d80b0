#!/usr/bin/env node
/**
 * Runs one lab child (a pod's server, Prometheus) and makes sure it dies with the lab: the lab
 * holds an IPC channel to this guard, and when the lab exits — normally, on Ctrl-C, or killed
 * with SIGKILL — the channel closes and the guard stops the child. Signals from the lab (the
 * kubelet-like SIGTERM) are passed on unchanged.
 *
 * Usage (internal): node guard.js <grace-ms> <command> [args...]
 */
import { spawn } from 'node:child_process';

const [graceText, command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: guard.js <grace-ms> <command> [args...]\n');
  process.exit(2);
}
const graceMs = Number(graceText);
const child = spawn(command, args, { stdio: 'inherit' });
child.on('spawn', () => process.send?.({ childPid: child.pid }));
child.on('error', (error) => {
  process.stderr.write(`guard: cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => child.kill(signal));
process.on('disconnect', () => {
  // The lab is gone: stop the child as a kubelet would, then for sure.
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1) : 1));
});
