/**
 * Where the process is in its life, as the probes report it:
 * starting (not listening yet) → ready → draining (a shutdown has begun; never goes back).
 */
export type Phase = 'starting' | 'ready' | 'draining';

export class Lifecycle {
  #phase: Phase = 'starting';

  get phase(): Phase {
    return this.#phase;
  }

  get draining(): boolean {
    return this.#phase === 'draining';
  }

  markListening(): void {
    if (this.#phase === 'starting') this.#phase = 'ready';
  }

  beginDrain(): void {
    this.#phase = 'draining';
  }
}
