import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GuardedProcess } from './guarded.ts';

/**
 * One control-plane program, run under the lab's guard (it dies with us, even on SIGKILL), its
 * output appended to `<dir>/logs/<name>.log` for whoever has to find out why it did not start.
 */
export class Component {
  readonly name: string;
  readonly process: GuardedProcess;
  readonly logFile: string;

  private constructor(name: string, process: GuardedProcess, logFile: string) {
    this.name = name;
    this.process = process;
    this.logFile = logFile;
  }

  static async start(name: string, command: string, args: string[], options: { logDir: string; env?: NodeJS.ProcessEnv; graceMs?: number }): Promise<Component> {
    await mkdir(options.logDir, { recursive: true });
    const logFile = join(options.logDir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = new GuardedProcess(command, args, { env: options.env, graceMs: options.graceMs ?? 10_000, stdout: 'pipe', stderr: 'pipe' });
    child.guard.stdout?.pipe(log, { end: false });
    child.guard.stderr?.pipe(log, { end: false });
    void child.exited.then(() => log.end());
    const component = new Component(name, child, logFile);
    await child.started;
    return component;
  }

  get running(): boolean {
    return this.process.running;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the program is gone. */
  stop(graceMs = 10_000): Promise<void> {
    return this.process.stop(graceMs);
  }
}
