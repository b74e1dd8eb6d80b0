import { executeLoad } from './execute.ts';
import { planLoad, type LoadFlags, type LoadPlan } from './plan.ts';

/** What `podscale load` takes from its command line besides the flags. */
export interface LoadInvocation {
  /** The options typed rather than defaulted (see planLoad). */
  given: ReadonlySet<string>;
  /** Reports flags that make no plan, as a usage error, and exits. */
  refuse: (reason: string) => never;
  stdout: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

/**
 * `podscale load`: plans the run, then runs it; resolves to the exit code. Only the plan's errors
 * are refused as usage: those of the run itself (a wrong --watch, a broker that does not answer)
 * come after the plan was accepted, and propagate.
 */
export async function loadMain(urls: string[], flags: LoadFlags, invocation: LoadInvocation): Promise<number> {
  let plan: LoadPlan;
  try {
    plan = planLoad(urls, flags, invocation.given);
  } catch (error) {
    invocation.refuse((error as Error).message);
  }
  const { exitCode } = await executeLoad(plan, invocation);
  return exitCode;
}
