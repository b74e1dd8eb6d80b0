/** Calls to the API server: the merge patch, which failures are worth another try, and the wait between tries. */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

/** Generated patch* calls default to JSON patch; custom resources take no strategic merge. */
export const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export const codeOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
};

/** A conflict, throttling, a server error, or no answer at all (a network error has no code). */
export const retriable = (error: unknown) => {
  const code = codeOf(error);
  return code === undefined || code === 409 || code === 429 || code >= 500;
};

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Exponential backoff with ±50 % jitter: 200 ms, 400 ms, 800 ms … capped at 5 s. */
export const backoffMs = (attempt: number) => Math.min(5_000, 200 * 2 ** attempt) * (0.5 + Math.random());
