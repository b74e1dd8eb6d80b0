import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '@podscale/process/net.ts';

export { freePort };

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The service as it ships: the bundle of the image (npm run build, or the tests' global setup). */
export const SERVER_ENTRY = `${ROOT}dist/service/server.mjs`;

export interface LogLine {
  msg?: string;
  phase?: string;
  level?: number;
  [key: string]: unknown;
}

/** A child process whose JSON log lines can be awaited. */
export class ServiceProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];

  constructor(child: ChildProcess) {
    this.child = child;
    this.exited = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      this.lines.push(line);
      for (const waiter of [...this.#waiters]) {
        if (waiter.match(line)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    });
    createInterface({ input: child.stderr! }).on('line', (text) => this.stderr.push(text));
  }

  /** Resolves with the first log line (already seen or future) that matches. */
  waitFor(match: (line: LogLine) => boolean): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ match, resolve });
      void this.exited.then(() => reject(new Error(`process exited before the awaited log line; stderr: ${this.stderr.join('\n')}`)));
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export interface StartedService {
  process: ServiceProcess;
  url: string;
  port: number;
}

/** Spawns the service bundle on a free port and waits until it logs that it listens. */
export async function spawnService(env: Record<string, string> = {}, nodeArgs: string[] = [], entry = SERVER_ENTRY): Promise<StartedService> {
  const port = Number(env.PORT ?? (await freePort()));
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    // Load shedding off unless the test asks for it (see NO_SHEDDING in app.ts).
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', POD_NAME: 'child-pod', OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const service = new ServiceProcess(child);
  await service.waitFor((line) => typeof line.msg === 'string' && line.msg.startsWith('Server listening'));
  return { process: service, url: `http://127.0.0.1:${port}`, port };
}

/** Runs the server with an environment expected to be rejected; returns exit code and stderr. */
export async function runServiceExpectingExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [SERVER_ENTRY], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const service = new ServiceProcess(child);
  const { code } = await service.exited;
  return { code, stderr: service.stderr.join('\n') };
}

/** The podscale command, run from its TypeScript source as `npx podscale` runs it. */
export const CLI = `${ROOT}packages/cli/src/cli.ts`;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `podscale ...` as a user would (CI=true: plain output); onLine sees stdout as it comes.
 * A test that may end before the CLI does passes `running`, a set its teardown kills.
 */
export async function runCli(args: string[], options: { onLine?: (line: string, child: ChildProcess) => void; running?: Set<ChildProcess> } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
  options.running?.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    stdout.push(line);
    options.onLine?.(line, child);
  });
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  options.running?.delete(child);
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('') };
}
