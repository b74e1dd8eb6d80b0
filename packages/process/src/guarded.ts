import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const GUARD = fileURLToPath(new URL(`./guard${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/** A child process that cannot outlive the lab (see guard.ts). */
export class GuardedProcess {
  readonly guard: ChildProcess;
  /** The real program's pid, once it has started. */
  childPid: number | undefined;
  readonly started: Promise<number>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; graceMs: number; stdout?: 'pipe' | 'ignore'; stderr?: 'pipe' | 'ignore' | 'inherit' }) {
    this.guard = fork(GUARD, [String(options.graceMs), command, ...args], {
      env: options.env ?? process.env,
      stdio: ['ignore', options.stdout ?? 'pipe', options.stderr ?? 'pipe', 'ipc'],
      execArgv: [],
    });
    this.started = new Promise((resolve, reject) => {
      this.guard.on('message', (message: { childPid?: number }) => {
        if (message.childPid) {
          this.childPid = message.childPid;
          resolve(message.childPid);
        }
      });
      this.guard.once('exit', (code) => reject(new Error(`${command} exited (${code}) before it started`)));
    });
    this.started.catch(() => undefined);
    this.exited = once(this.guard, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  }

  get running(): boolean {
    return this.guard.exitCode === null && this.guard.signalCode === null;
  }

  /**
   * kubelet's stop, the one in this repository: SIGTERM, SIGKILL once `graceMs` has passed, and
   * resolves when the program is gone (at once when it already is).
   */
  async stop(graceMs: number): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    const killer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(killer);
  }

  /** Sends a signal to the real program (SIGKILL included, which a guard cannot forward itself). */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    if (signal === 'SIGKILL' && this.childPid !== undefined) {
      try {
        process.kill(this.childPid, 'SIGKILL');
      } catch {
        // already gone
      }
      return;
    }
    this.guard.kill(signal);
  }
}
