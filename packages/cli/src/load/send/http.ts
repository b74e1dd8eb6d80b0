import { Pool } from 'undici';
import { classifyError } from '../errors.ts';
import type { Outcome, Sender } from './sender.ts';
import type { StatusClass } from '../stats.ts';

export interface Target {
  url: URL;
  /** url.pathname + url.search, computed once. */
  path?: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  weight: number;
}

export interface HttpOptions {
  targets: Target[];
  /** Connections per origin. */
  connections: number;
  /**
   * Close a connection after this many requests (0: never). Kubernetes Services balance
   * connections, not requests: without recycling, keep-alive connections stay on the pods that
   * existed when they opened, and pods added by a scale-up receive nothing.
   */
  maxRequestsPerConnection?: number;
  timeoutMs: number;
  servedByHeader?: string;
}

const STATUS_CLASS: Record<number, StatusClass> = { 2: '2xx', 3: '3xx', 4: '4xx', 5: '5xx' };

/** HTTP requests through undici pools, one per origin, spread over the targets by weight. */
export class HttpSender implements Sender {
  readonly #targets: Target[];
  readonly #timeoutMs: number;
  readonly #servedByHeader: Buffer;
  readonly #pools = new Map<string, Pool>();
  readonly #cumulativeWeights: number[];
  readonly #totalWeight: number;

  constructor(options: HttpOptions) {
    if (options.targets.length === 0) throw new Error('no target URL');
    this.#targets = options.targets;
    this.#timeoutMs = options.timeoutMs;
    this.#servedByHeader = Buffer.from((options.servedByHeader ?? 'x-served-by').toLowerCase());
    let sum = 0;
    this.#cumulativeWeights = options.targets.map((target) => (sum += target.weight));
    this.#totalWeight = sum;
    for (const target of options.targets) {
      target.path = target.url.pathname + target.url.search;
      if (!this.#pools.has(target.url.origin)) {
        const recycle = options.maxRequestsPerConnection ? { maxRequestsPerClient: options.maxRequestsPerConnection } : {};
        this.#pools.set(target.url.origin, new Pool(target.url.origin, { connections: options.connections, pipelining: 1, ...recycle }));
      }
    }
  }

  send(_seq: number, dueAt: number, outcome: Outcome): void {
    const target = this.#pick();
    // dispatch() with undici's raw handler instead of request(): no body stream, promise or header
    // object per request, and undici's own coarse timers for the timeout — the generator must
    // outrun the server it measures.
    let statusClass: StatusClass | undefined;
    let servedBy: string | undefined;
    this.#pools.get(target.url.origin)!.dispatch(
      {
        path: target.path!,
        method: target.method as 'GET',
        headers: target.headers,
        body: target.body ?? null,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      },
      {
        onConnect: () => undefined,
        onHeaders: (statusCode: number, rawHeaders: Buffer[]) => {
          statusClass = STATUS_CLASS[Math.floor(statusCode / 100)];
          servedBy = findHeader(rawHeaders, this.#servedByHeader);
          return true;
        },
        onData: () => true,
        onComplete: () => outcome.complete(dueAt, statusClass, servedBy),
        onError: (error: Error) => outcome.fail(classifyError(error)),
      },
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
  }

  #pick(): Target {
    const targets = this.#targets;
    if (targets.length === 1) return targets[0]!;
    const r = Math.random() * this.#totalWeight;
    let i = 0;
    while (this.#cumulativeWeights[i]! <= r) i += 1;
    return targets[i]!;
  }
}

/** One header's value from undici's raw [name, value, …] list, without parsing the others. */
function findHeader(rawHeaders: Buffer[], lowerName: Buffer): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === lowerName.length && name.toString('latin1').toLowerCase() === lowerName.toString('latin1')) return rawHeaders[i + 1]!.toString();
  }
  return undefined;
}
