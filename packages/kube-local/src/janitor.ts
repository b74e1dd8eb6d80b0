#!/usr/bin/env node
/**
 * Removes the cluster's pod network when `cluster up` dies without cleaning up (SIGKILL, a crash):
 * forked with an IPC channel, it waits for the channel to close, and if the parent did not say
 * "clean" first, tears the network of its slot (argv[2]) down. Processes need no janitor: each runs under a guard that
 * stops it when its parent goes (see @podscale/process/guard.ts). With a real node (argv[3]: the cluster
 * directory) it first sweeps what outlives containerd and kubelet: shims and containers, mounts,
 * cgroups, iptables chains, sysctls (real-node/sweep.ts).
 */
import { PodNetwork } from './pod-network.ts';
import { sweepRealNode } from './real-node/sweep.ts';

const slot = Number(process.argv[2]);
const realNodeDir = process.argv[3];
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
    void (realNodeDir ? sweepRealNode(realNodeDir, slot).catch(() => undefined) : Promise.resolve())
      .then(() => new PodNetwork(slot).tearDown())
      .finally(() => process.exit(0));
  }, 2000);
});
