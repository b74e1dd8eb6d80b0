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
// Its own process group: a terminal's Ctrl-C or hangup reaches the child only through this guard,
// so Prometheus never sees a SIGHUP (which it would take as "reload") and outlives everyone.
const child = spawn(command, args, { stdio: 'inherit', detached: true });
child.on('spawn', () => process.send?.({ childPid: child.pid }));
child.on('error', (error) => {
  process.stderr.write(`guard: cannot start ${command}: ${error.message}\n`);
  process.exit(127);
});
process.on('SIGTERM', () => child.kill('SIGTERM'));
// A terminal's Ctrl-C or hangup also reaches the guard (it shares the lab's process group): the lab
// decides what its pods do then, and if the lab dies of it, 'disconnect' below takes over.
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
process.on('disconnect', () => {
  // The lab is gone: stop the child as a kubelet would, then for sure.
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), graceMs);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1) : 1));
});
