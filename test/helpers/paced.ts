import { Pool } from 'undici';

/**
 * Sends GET requests at a fixed rate until stopped: a known request rate for the tests that check
 * what Prometheus computes from the service's counters.
 */
export class PacedTraffic {
  sent = 0;
  failed = 0;
  readonly #pool: Pool;
  readonly #timer: NodeJS.Timeout;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(baseUrl: string, path: string, perSecond: number) {
    this.#pool = new Pool(baseUrl, { connections: 4 });
    const started = performance.now();
    // Catch up on missed ticks so timer jitter does not lower the rate.
    this.#timer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
      while (this.sent < due) this.#send(path);
    }, 10);
  }

  #send(path: string): void {
    this.sent += 1;
    const done = this.#pool
      .request({ path, method: 'GET' })
      .then((response) => {
        if (response.statusCode >= 400) this.failed += 1;
        return response.body.dump();
      })
      .catch(() => {
        this.failed += 1;
      })
      .finally(() => this.#inFlight.delete(done));
    this.#inFlight.add(done);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.#inFlight);
    await this.#pool.close();
  }
}
