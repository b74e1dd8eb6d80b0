import { Command, Option } from 'commander';
import { CONTROL_PLANES, type LabFlags } from '../lab/flags.ts';
import { labMain, rolloutMain } from '../lab/main.ts';
import { SCENARIOS } from '../lab/scenarios.ts';
import { durationMs, positiveInteger, positiveNumber } from './parse.ts';
import { KUBERNETES_VERSION } from '@podscale/kube-local/binaries.ts';
import { supportedReleases } from '@podscale/kube-local/releases.ts';

export function labCommand(): Command {
  const command = new Command('lab')
    .description('watch the HPA scale real podscale processes on this machine: Service proxy, Prometheus, the shipped adapter rule and HPA')
    .addOption(new Option('--control-plane <name>', `lab: the local lab and the HPA port; kubernetes: a real control plane (Kubernetes, --kubernetes-version) on this machine (needs the built binaries and root)`).choices(CONTROL_PLANES).default('lab'))
    .option('--kubernetes-version <release>', `the Kubernetes release, one of ${supportedReleases().join(', ')} or its minor: the lab's HPA port follows its feature gates and controller behaviour; --control-plane kubernetes runs its control plane (older ones on the node agent)`, KUBERNETES_VERSION)
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
      process.exitCode = await labMain(flags);
    });

  command
    .command('rollout')
    .description('a rolling update under load, following the Deployment strategy; exits 2 if any request failed')
    .option('-r, --rate <rps>', 'request rate during the rollout', positiveNumber, 100)
    .action(async (_options: unknown, sub: Command) => {
      process.exitCode = await rolloutMain(sub.optsWithGlobals<LabFlags>());
    });
  return command;
}
