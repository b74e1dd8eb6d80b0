/**
 * How long a restarted container waits, for its `restart`-th restart (1-based): doubling per
 * restart up to kubelet's five minutes (MaxContainerBackOff). kubelet starts at 10 s; the node
 * agent and the lab start at 1 s, so that a test of a restart does not wait out kubelet's first step.
 */
export function restartBackoffMs(restart: number): number {
  return Math.min(1000 * 2 ** (restart - 1), 300_000);
}
