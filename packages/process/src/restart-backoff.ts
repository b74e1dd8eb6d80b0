/**
 * How long to wait before the `restart`-th restart (1-based) of a program that died, as kubelet
 * waits for a container (kuberuntime doBackOff on client-go's flowcontrol.Backoff, v1.34.4): the
 * first restart at once, then 10 s (kubelet.go backOffPeriod), doubling up to 5 minutes
 * (MaxContainerBackOff). kubelet forgets a container's back-off after twice that without a
 * failure; callers start counting again after a run that long (STABLE_RUN_MS).
 */
export function restartBackoffMs(restart: number): number {
  return restart <= 1 ? 0 : Math.min(10_000 * 2 ** (restart - 2), MAX_BACKOFF_MS);
}

const MAX_BACKOFF_MS = 300_000;

/** A run at least this long resets the count (flowcontrol.Backoff's expiry: 2 × the cap). */
export const STABLE_RUN_MS = 2 * MAX_BACKOFF_MS;
