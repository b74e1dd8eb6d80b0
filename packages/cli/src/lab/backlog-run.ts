import { executeLoad } from '../load/execute.ts';
import { planLoad } from '../load/plan.ts';
import { BacklogLab } from './backlog.ts';
import { loadFlags, type LabFlags } from './flags.ts';
import { backlogStages } from './scenarios.ts';
import { elapsedLog, inSession, startHoldingSignals, TERMINAL } from './session.ts';

/**
 * `lab --control-plane kubernetes --scenario backlog`: a burst of messages into the workers' topic
 * through the load tool's kafka:// sender, while the AutoScalerPolicy controller scales the
 * workers on the group's lag; then a quiet tail (--after) to watch the drain and the scale-down.
 * Resolves to the exit code.
 */
export async function runBacklog(flags: LabFlags): Promise<number> {
  if (flags.controlPlane !== 'kubernetes') throw new Error('--scenario backlog runs on --control-plane kubernetes (the AutoScalerPolicy controller and worker pods on a real control plane)');
  const log = elapsedLog();
  const cooldownS = Math.max(1, Math.round(flags.cooldown / 1000));
  const lab = await startHoldingSignals(() => BacklogLab.start({ partitions: flags.partitions, threshold: flags.threshold, cooldownS, workMsPerMessage: flags.workMs, ...(flags.min !== undefined ? { minReplicas: flags.min } : {}), ...(flags.max !== undefined ? { maxReplicas: flags.max } : {}), log }));
  const session = {
    banner: `control plane kubernetes · broker ${lab.broker.bootstrap} · topic ${lab.topic} (${lab.partitions} partitions) · group ${lab.group} · KUBECONFIG=${lab.cluster.kubeconfig}`,
    overrides: lab.overrides,
    stop: () => lab.stop(),
    shutdown: async () => {
      log('stopping the cluster and the broker');
      await lab.stop();
      log('stopped');
    },
  };
  return inSession(session, async () => {
    const burst = flags.stages ?? backlogStages(flags.threshold, flags.partitions);
    // Long enough for the lag to drain and two cooldowns to pass (down as the lag falls, then to the minimum).
    const afterMs = flags.after ?? 2 * flags.cooldown + 60_000;
    const plan = planLoad([`kafka://${lab.broker.bootstrap}/${lab.topic}`], loadFlags(flags, { stages: `${burst},1ms:0,${afterMs}ms:0`, group: lab.group }));
    const { record, exitCode } = await executeLoad(plan, TERMINAL, { watcher: lab.watcher });
    for (const line of await lab.story(Date.parse(record.startedAt) / 1000)) process.stdout.write(`lab: ${line}\n`);
    return exitCode;
  });
}
