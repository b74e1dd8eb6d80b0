import { Command, Option } from 'commander';
import { runBacklog } from '../lab/backlog-run.ts';
import { withControlPlane } from '../lab/control-plane.ts';
import { CONTROL_PLANES, loadFlags, type LabFlags } from '../lab/flags.ts';
import { SCENARIOS, scenarioStages, type HttpScenario } from '../lab/scenarios.ts';
import type { LoadRun } from '../load/engine.ts';
import { executeLoad } from '../load/execute.ts';
import { planLoad } from '../load/plan.ts';
import { failures } from '../load/stats.ts';
import { EXIT_THRESHOLD_FAILED } from '../load/thresholds.ts';
import { durationMs, positiveInteger, positiveNumber } from './parse.ts';

export function labCommand(): Command {
  const command = new Command('lab')
    .description('watch the HPA scale real podscale processes on this machine: Service proxy, Prometheus, the shipped adapter rule and HPA')
    .addOption(new Option('--control-plane <name>', 'lab: the local lab and the HPA port; kubernetes: a real v1.34.4 control plane on this machine (needs the built binaries and root)').choices(CONTROL_PLANES).default('lab'))
    .addOption(new Option('--scenario <name>', 'drive load through the Service and watch the replicas').choices(SCENARIOS))
    .option('-s, --stages <list>', 'custom load shape DURATION:RATE,... (instead of a scenario)')
    .option('--path <path>', 'request path for the load', '/api/delay?ms=20')
    .addOption(new Option('--after <time>', 'keep watching this long after the load ends (scale-down)').argParser(durationMs))
    .addOption(new Option('--sync-period <time>', 'HPA sync period (kube-controller-manager: 15s)').argParser(durationMs))
    .addOption(new Option('--propagation-delay <time>', 'how late the Service proxy learns endpoint changes').argParser(durationMs).default(2000, '2s'))
    .addOption(new Option('--scrape-interval <time>', 'override the shipped scrape interval').argParser(durationMs))
    .addOption(new Option('--rate-window <time>', "override the adapter rule's rate() window").argParser(durationMs))
    .option('--qps-target <n>', 'override the per-pod requests/s target', positiveNumber)
    .option('--cpu-target <percent>', 'override the CPU utilization target', positiveInteger)
    .option('--min <n>', 'override minReplicas (backlog: the policy\'s)', positiveInteger)
    .option('--max <n>', 'override maxReplicas (backlog: the policy\'s)', positiveInteger)
    .addOption(new Option('--scale-down-window <time>', 'override the scale-down stabilization window').argParser(durationMs))
    .option('--no-prometheus', 'use the embedded scraper even if prometheus is installed')
    .option('--report <file>', 'write the HTML report (load, replicas, HPA decisions)')
    .option('-o, --out <file>', 'write the run as JSON')
    .option('--plain', 'one line per second even on a terminal')
    .option('-r, --rate <rps>', 'request rate for `lab rollout`', positiveNumber, 100)
    .option('--partitions <n>', 'backlog: partitions of the topic (the most workers that get work)', positiveInteger, 6)
    .option('--threshold <n>', "backlog: the policy's messages of lag per worker", positiveInteger, 200)
    .addOption(new Option('--cooldown <time>', "backlog: the policy's cooldownSeconds (and the controller's --min-cooldown)").argParser(durationMs).default(30_000, '30s'))
    .option('--work-ms <ms>', "backlog: the workers' WORK_MS_PER_MESSAGE", positiveInteger, 20)
    .action(async (flags: LabFlags) => {
      if (flags.scenario === 'backlog') return runBacklog(flags);
      await withControlPlane(flags, async (lab) => {
        const stagesText = flags.stages ?? (flags.scenario ? scenarioStages(flags.scenario as HttpScenario, lab.qpsTarget) : undefined);
        if (!stagesText) {
          const watch = flags.controlPlane === 'kubernetes' ? 'deployment/podscale -n podscale' : 'lab';
          process.stdout.write(`lab: running; send load to ${lab.serviceUrl} (e.g. podscale load ${lab.serviceUrl}/api/delay?ms=20 --rate 300 --watch ${watch}); Ctrl-C stops\n`);
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
          return;
        }
        // A quiet tail to watch the scale-down: drop to 0 at once, then stay there.
        const stages = flags.after ? `${stagesText}${stagesText.endsWith(':0') ? '' : ',1ms:0'},${flags.after}ms:0` : stagesText;
        const plan = planLoad([`${lab.serviceUrl}${flags.path}`], loadFlags(flags, { stages }));
        const { record, exitCode } = await executeLoad(plan, { stdout: process.stdout, env: process.env }, { watcher: lab.watcher, maxRequestsPerConnection: 50, complete: lab.complete });
        for (const line of lab.story(record)) process.stdout.write(`lab: ${line}\n`);
        process.exitCode = exitCode;
      });
    });

  command
    .command('rollout')
    .description('a rolling update under load, following the Deployment strategy; exits 2 if any request failed')
    .option('-r, --rate <rps>', 'request rate during the rollout', positiveNumber, 100)
    .action(async (_options: unknown, sub: Command) => {
      const flags = sub.optsWithGlobals<LabFlags>();
      await withControlPlane(flags, async (lab) => {
        let run: LoadRun | undefined;
        const plan = planLoad([`${lab.serviceUrl}${flags.path}`], loadFlags(flags, { rate: flags.rate, duration: 600_000 }));
        const rollout = (async () => {
          await new Promise((resolve) => setTimeout(resolve, 3000)); // steady traffic first
          await lab.rollout((message) => process.stdout.write(`rollout: ${message}\n`));
          await new Promise((resolve) => setTimeout(resolve, 2000));
          run?.stop();
        })();
        const { record, exitCode } = await executeLoad(plan, { stdout: process.stdout, env: process.env }, {
          watcher: lab.watcher,
          onStart: (started) => (run = started),
          complete: lab.complete,
        });
        await rollout;
        const failed = failures(record.summary.counts);
        process.stdout.write(`rollout: rolled out under ${flags.rate} req/s: ${record.summary.counts.offered} requests, ${failed} failed\n`);
        process.exitCode = failed > 0 ? EXIT_THRESHOLD_FAILED : exitCode;
      });
    });
  return command;
}
