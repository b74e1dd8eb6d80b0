/**
 * The work queue: each key is processed at most once at a time; an enqueue while it runs makes it
 * run once more right after (events coalesce). process() says when to look at the key again.
 */
import { sleep } from './api.ts';

export class WorkQueue {
  readonly #process: (key: string) => Promise<number | undefined>;
  readonly #running = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #closed = false;

  /** process: never throws; resolves to the ms after which the key is processed again, if ever. */
  constructor(process: (key: string) => Promise<number | undefined>) {
    this.#process = process;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Processes key now, or right after the run of it in flight. */
  enqueue(key: string): void {
    if (this.#closed) return;
    if (this.#running.has(key)) {
      this.#dirty.add(key);
      return;
    }
    void this.#run(key);
  }

  /** Replaces the wake-up of key scheduled before, if any. */
  requeueAfter(key: string, ms: number): void {
    clearTimeout(this.#timers.get(key));
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.enqueue(key);
    }, Math.max(ms, 0));
    timer.unref();
    this.#timers.set(key, timer);
  }

  forget(key: string): void {
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
  }

  async #run(key: string): Promise<void> {
    this.#running.add(key);
    try {
      do {
        this.#dirty.delete(key);
        const after = await this.#process(key);
        // No answer keeps the wake-up an earlier run scheduled.
        if (after !== undefined) this.requeueAfter(key, after);
      } while (this.#dirty.has(key) && !this.#closed);
    } finally {
      this.#running.delete(key);
    }
  }

  /** Takes no more work and drops the wake-ups; the runs in flight go on (see drain). */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
  }

  /** Lets the runs in flight finish their writes, up to timeoutMs. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#running.size > 0 && Date.now() < deadline) await sleep(20);
  }
}
