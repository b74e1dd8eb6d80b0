import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GuardedProcess } from './guarded.ts';
import { restartBackoffMs, STABLE_RUN_MS } from './restart-backoff.ts';

export interface ComponentOptions {
  logDir: string;
  env?: NodeJS.ProcessEnv;
  graceMs?: number;
  /**
   * Restart the program whenever it exits without stop() (as kubelet restarts a static pod and
   * systemd a node daemon), with back-off, and tell this function each time.
   */
  supervise?: (line: string) => void;
}

/**
 * One control-plane program, run under the lab's guard (it dies with us, even on SIGKILL), its
 * output appended to `<dir>/logs/<name>.log` for whoever has to find out why it did not start.
 */
export class Component {
  readonly name: string;
  readonly logFile: string;
  readonly #command: string;
  readonly #args: string[];
  readonly #options: ComponentOptions;
  readonly #log: WriteStream;
  #process: GuardedProcess;
  #startedAt = performance.now();
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #stopping = false;

  private constructor(name: string, command: string, args: string[], options: ComponentOptions) {
    this.name = name;
    this.#command = command;
    this.#args = args;
    this.#options = options;
    this.logFile = join(options.logDir, `${name}.log`);
    this.#log = createWriteStream(this.logFile, { flags: 'a' });
    this.#process = this.#launch();
  }

  static async start(name: string, command: string, args: string[], options: ComponentOptions): Promise<Component> {
    await mkdir(options.logDir, { recursive: true });
    const component = new Component(name, command, args, options);
    await component.process.started;
    return component;
  }

  /** The program's current run (a supervised component gets a new one at each restart). */
  get process(): GuardedProcess {
    return this.#process;
  }

  get running(): boolean {
    return this.#process.running;
  }

  /** How often supervision has restarted the program. */
  get restarts(): number {
    return this.#restarts;
  }

  #launch(): GuardedProcess {
    const child = new GuardedProcess(this.#command, this.#args, { env: this.#options.env, graceMs: this.#options.graceMs ?? 10_000, stdout: 'pipe', stderr: 'pipe' });
    child.guard.stdout?.pipe(this.#log, { end: false });
    child.guard.stderr?.pipe(this.#log, { end: false });
    this.#startedAt = performance.now();
    void child.exited.then((exit) => this.#onExit(child, exit));
    return child;
  }

  #onExit(child: GuardedProcess, { code, signal }: { code: number | null; signal: NodeJS.Signals | null }): void {
    const supervise = this.#options.supervise;
    if (this.#stopping || !supervise) {
      this.#endLog();
      return;
    }
    if (child !== this.#process) return;
    if (performance.now() - this.#startedAt >= STABLE_RUN_MS) this.#restarts = 0;
    const delay = restartBackoffMs(this.#restarts + 1);
    // The guard exits with the program's status; a signal shows as 128 + its number.
    const status = signal ? `signal ${signal}` : code !== null && code > 128 ? `exit status ${code} (signal ${code - 128})` : `exit status ${code}`;
    supervise(`${this.name} exited (${status}); restarting in ${delay} ms (restart ${this.#restarts + 1})`);
    this.#restartTimer = setTimeout(() => {
      if (this.#stopping) return;
      this.#restarts++;
      this.#process = this.#launch();
      this.#process.started.then(
        (pid) => supervise(`${this.name} restarted (pid ${pid}, restart ${this.#restarts})`),
        (error: Error) => supervise(`${this.name} did not restart: ${error.message}`),
      );
    }, delay);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the program is gone, and it stays gone. */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    if (this.#process.running) await this.#process.stop(graceMs);
    this.#endLog();
  }

  #endLog(): void {
    if (!this.#log.writableEnded) this.#log.end();
  }
}
