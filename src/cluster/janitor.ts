#!/usr/bin/env node
/**
 * Removes the cluster's pod network when `cluster up` dies without cleaning up (SIGKILL, a crash):
 * forked with an IPC channel, it waits for the channel to close, and if the parent did not say
 * "clean" first, tears the network of its slot (argv[2]) down. Processes need no janitor: each runs under a guard that
 * stops it when its parent goes (see lab/guard.ts).
 */
import { PodNetwork } from './pod-network.ts';

const slot = Number(process.argv[2]);
let clean = false;
process.on('message', (message) => {
  if (message === 'clean') clean = true;
});
// Terminal signals are for the parent; this process must outlive it to do its job.
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
process.on('disconnect', () => {
  if (clean) process.exit(0);
  // Give the guards a moment to stop the pods' processes, which hold the namespaces.
  setTimeout(() => {
    void new PodNetwork(slot).tearDown().finally(() => process.exit(0));
  }, 2000);
});
