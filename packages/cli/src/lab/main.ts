import type { LoadRun } from '../load/engine.ts';
import { executeLoad } from '../load/execute.ts';
import { planLoad } from '../load/plan.ts';
import { failures } from '../load/stats.ts';
import { EXIT_THRESHOLD_FAILED } from '../load/thresholds.ts';
import { runBacklog } from './backlog-run.ts';
import { withControlPlane, type LabRun } from './control-plane.ts';
import { loadFlags, type LabFlags } from './flags.ts';
import { qpsTargetOf, scenarioStages, type HttpScenario } from './scenarios.ts';
import { TERMINAL } from './session.ts';

/**
 * `podscale lab`: a scenario (or --stages) through the Service, watched to the end; with neither,
 * the lab runs until Ctrl-C for load sent from elsewhere. Resolves to the exit code.
 */
export async function labMain(flags: LabFlags): Promise<number> {
  if (flags.scenario === 'backlog') return runBacklog(flags);
  return withControlPlane(flags, async (lab) => {
    const stages = flags.stages ?? (flags.scenario ? scenarioStages(flags.scenario as HttpScenario, qpsTargetOf(lab.spec)) : undefined);
    return stages ? runStages(flags, lab, stages) : serveUntilSignal(flags, lab);
  });
}

async function runStages(flags: LabFlags, lab: LabRun, stagesText: string): Promise<number> {
  // A quiet tail to watch the scale-down: drop to 0 at once, then stay there.
  const stages = flags.after ? `${stagesText}${stagesText.endsWith(':0') ? '' : ',1ms:0'},${flags.after}ms:0` : stagesText;
  const plan = planLoad([`${lab.serviceUrl}${flags.path}`], loadFlags(flags, { stages }));
  const { record, exitCode } = await executeLoad(plan, TERMINAL, { watcher: lab.watcher, maxRequestsPerConnection: 50, complete: lab.complete });
  for (const line of lab.story(record)) process.stdout.write(`lab: ${line}\n`);
  return exitCode;
}

async function serveUntilSignal(flags: LabFlags, lab: LabRun): Promise<number> {
  const watch = flags.controlPlane === 'kubernetes' ? 'deployment/podscale -n podscale' : 'lab';
  process.stdout.write(`lab: running; send load to ${lab.serviceUrl} (e.g. podscale load ${lab.serviceUrl}/api/delay?ms=20 --rate 300 --watch ${watch}); Ctrl-C stops\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  return 0;
}

/** `podscale lab rollout`: a rolling update under steady load. Resolves to the exit code: 2 if any request failed. */
export async function rolloutMain(flags: LabFlags): Promise<number> {
  return withControlPlane(flags, async (lab) => {
    let run: LoadRun | undefined;
    const plan = planLoad([`${lab.serviceUrl}${flags.path}`], loadFlags(flags, { rate: flags.rate, duration: 600_000 }));
    const rollout = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 3000)); // steady traffic first
      await lab.rollout((message) => process.stdout.write(`rollout: ${message}\n`));
      await new Promise((resolve) => setTimeout(resolve, 2000));
      run?.stop();
    })();
    const { record, exitCode } = await executeLoad(plan, TERMINAL, {
      watcher: lab.watcher,
      onStart: (started) => (run = started),
      complete: lab.complete,
    });
    await rollout;
    const failed = failures(record.summary.counts);
    process.stdout.write(`rollout: rolled out under ${flags.rate} req/s: ${record.summary.counts.offered} requests, ${failed} failed\n`);
    return failed > 0 ? EXIT_THRESHOLD_FAILED : exitCode;
  });
}
