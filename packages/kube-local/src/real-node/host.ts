import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs a program and returns its stdout; rejects with its stderr in the message. */
export async function run(command: string, args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
  try {
    return (await execFileAsync(command, args, { maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000 })).stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`${command} ${args.join(' ')}: ${stderr || (error as Error).message}`, { cause: error });
  }
}

/** The same, for teardown: a failure (usually "does not exist") is not an error there. */
export async function runQuiet(command: string, args: string[]): Promise<string> {
  return run(command, args).catch(() => '');
}
