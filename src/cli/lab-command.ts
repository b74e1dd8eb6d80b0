import { Command, InvalidArgumentError, Option } from 'commander';
import type { LabKit } from '../lab/kit.ts';
import { loadLabKit } from '../lab/kit.ts';
import { BacklogLab } from '../lab/backlog.ts';
import { hpaDecisions, hpaStory, KubernetesLab } from '../lab/kubernetes.ts';
import { Lab, type HpaOverrides, type LabOptions } from '../lab/lab.ts';
import { scalingStory } from '../lab/story.ts';
import type { HpaSpec } from '../autoscaler/types.ts';
import type { LoadRun } from '../load/engine.ts';
import type { ReplicaWatcher } from '../load/watch/replicas.ts';
import type { RunRecord } from '../load/record.ts';
import { failures } from '../load/stats.ts';
import { executeLoad, planLoad, EXIT_THRESHOLD_FAILED, type LoadFlags } from './load-command.ts';
import { durationMs, positiveInteger, positiveNumber } from './parse.ts';

export const SCENARIOS = ['ramp', 'spike', 'steady', 'backlog'] as const;
export const CONTROL_PLANES = ['lab', 'kubernetes'] as const;
type Scenario = (typeof SCENARIOS)[number];
type HttpScenario = Exclude<Scenario, 'backlog'>;

/** Load shapes in multiples of the per-pod QPS target, so that they scale whatever the target. */
export function scenarioStages(scenario: HttpScenario, qpsTarget: number): string {
  const t = (multiple: number) => Math.round(multiple * qpsTarget);
  switch (scenario) {
    case 'ramp':
      return `20s:${t(1.5)},60s:${t(7)},45s:${t(7)},20s:0`;
    case 'spike':
      return `10s:${t(1)},5s:${t(8)},50s:${t(8)},5s:${t(1)},40s:${t(1)}`;
    case 'steady':
      return `10s:${t(3)},80s:${t(3)}`;
  }
}

interface LabFlags {
  controlPlane: (typeof CONTROL_PLANES)[number];
  scenario?: Scenario;
  stages?: string;
  path: string;
  after?: number;
  syncPeriod?: number;
  propagationDelay: number;
  scrapeInterval?: number;
  rateWindow?: number;
  qpsTarget?: number;
  cpuTarget?: number;
  min?: number;
  max?: number;
  scaleDownWindow?: number;
  prometheus: boolean;
  report?: string;
  out?: string;
  plain?: boolean;
  rate: number;
  partitions: number;
  threshold: number;
  cooldown: number;
  workMs: number;
}

/**
 * `--scenario backlog`'s burst: enough messages for twice what the partitions' workers carry at the
 * threshold, within 3 s — shorter than the controller's resync, so that its first reading after the
 * burst sees most of it and asks for more workers than partitions (capped). A slower burst would be
 * met by a smaller first step, and the cooldown would then hold it.
 */
export function backlogStages(threshold: number, partitions: number): string {
  const rate = Math.ceil((2 * threshold * partitions) / 3);
  // Stages ramp from the rate before them: a step to the burst rate, then 3 s at it.
  return `1ms:${rate},3s:${rate}`;
}

function hpaOverrides(flags: LabFlags): HpaOverrides {
  const hpa: HpaOverrides = {};
  if (flags.qpsTarget !== undefined) hpa.qpsTarget = flags.qpsTarget;
  if (flags.cpuTarget !== undefined) hpa.cpuTarget = flags.cpuTarget;
  if (flags.min !== undefined) hpa.minReplicas = flags.min;
  if (flags.max !== undefined) hpa.maxReplicas = flags.max;
  if (flags.scaleDownWindow !== undefined) hpa.scaleDownWindowS = flags.scaleDownWindow / 1000;
  return hpa;
}

function labOptions(kit: LabKit, flags: LabFlags): LabOptions {
  return {
    kit,
    hpa: hpaOverrides(flags),
    propagationDelayMs: flags.propagationDelay,
    prometheus: flags.prometheus ? 'auto' : 'off',
    announce: true,
    ...(flags.syncPeriod !== undefined ? { syncPeriodS: flags.syncPeriod / 1000 } : {}),
    ...(flags.scrapeInterval !== undefined ? { scrapeIntervalS: flags.scrapeInterval / 1000 } : {}),
    ...(flags.rateWindow !== undefined ? { rateWindowS: flags.rateWindow / 1000 } : {}),
  };
}

function loadFlags(flags: LabFlags, extra: Partial<LoadFlags>): LoadFlags {
  return {
    rate: flags.rate,
    duration: 30_000,
    maxInFlight: 2000,
    connections: 32,
    timeout: 10_000,
    method: 'GET',
    header: {},
    namespace: 'default',
    ...(flags.plain ? { plain: true } : {}),
    ...(flags.out ? { out: flags.out } : {}),
    ...(flags.report ? { report: flags.report } : {}),
    ...extra,
  };
}

/** What a scenario or a rollout needs from the control plane it runs on. */
interface LabRun {
  serviceUrl: string;
  qpsTarget: number;
  watcher: ReplicaWatcher;
  /** Fills record.decisions from the HPA that scaled the run. */
  complete: (record: RunRecord) => void;
  /** What drove the replicas, told from that HPA's own decisions once the run is complete. */
  story: (record: RunRecord) => string[];
  rollout: (log: (message: string) => void) => Promise<void>;
}

function labRun(lab: Lab): LabRun {
  return {
    serviceUrl: lab.serviceUrl,
    qpsTarget: qpsTargetOf(lab.controller.options.spec),
    watcher: labWatcher(lab),
    complete: addDecisions(lab),
    story: () => scalingStory(lab.controller.syncs),
    rollout: async (log) => {
      await lab.deployment.rollout(log);
      // Let the last old pod finish draining under load.
      while (lab.deployment.pods.some((pod) => pod.revision < lab.deployment.revision)) await new Promise((resolve) => setTimeout(resolve, 200));
    },
  };
}

/** `--control-plane kubernetes`: Flags that only the local lab has. */
function kubernetesOnlyChecks(flags: LabFlags): void {
  const unsupported = [
    ['--scrape-interval', flags.scrapeInterval],
    ['--rate-window', flags.rateWindow],
  ].filter(([, value]) => value !== undefined);
  if (unsupported.length > 0) throw new InvalidArgumentError(`${unsupported.map(([flag]) => flag).join(', ')}: not with --control-plane kubernetes, which runs the kit's own Prometheus and adapter configuration`);
  if (!flags.prometheus) throw new InvalidArgumentError('--no-prometheus: not with --control-plane kubernetes, which runs the kit\'s Prometheus');
}

/**
 * Until the body takes over signals (a load run stops cleanly on Ctrl-C), a signal stops the lab
 * and exits 130. The returned function hands signals back; calling it again does nothing.
 */
function stopOnSignal(lab: { stop(): Promise<void> }): () => void {
  const stop = () => void lab.stop().then(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}

/** Starts the lab on the chosen control plane, with Ctrl-C / SIGTERM / exit wired to stop it. */
async function withControlPlane(flags: LabFlags, body: (run: LabRun) => Promise<void>): Promise<void> {
  if (flags.controlPlane === 'kubernetes') return withKubernetes(flags, body);
  return withLab(flags, (lab) => body(labRun(lab)));
}

async function withKubernetes(flags: LabFlags, body: (run: LabRun) => Promise<void>): Promise<void> {
  kubernetesOnlyChecks(flags);
  const kit = loadLabKit();
  const started = performance.now();
  const log = (line: string) => process.stdout.write(`lab: [${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
  const hpa = hpaOverrides(flags);
  const syncPeriodS = flags.syncPeriod !== undefined ? flags.syncPeriod / 1000 : undefined;
  // Says why it cannot run here (binaries, root) before it announces anything.
  const lab = await KubernetesLab.start({ kit, hpa, ...(syncPeriodS !== undefined ? { syncPeriodS } : {}), log });
  const releaseSignals = stopOnSignal(lab);
  try {
    process.stdout.write(`lab: control plane kubernetes · Service ${lab.serviceUrl} · KUBECONFIG=${lab.cluster.kubeconfig}\n`);
    for (const override of lab.overrides) process.stdout.write(`lab: override ${override}\n`);
    await lab.waitForReady(kit.replicas);
    releaseSignals();
    await body({
      serviceUrl: lab.serviceUrl,
      qpsTarget: qpsTargetOf(lab.spec),
      watcher: { current: () => lab.watcher.current(), stop: async () => undefined },
      complete: (record) => {
        record.decisions = hpaDecisions(lab.observer, Date.parse(record.startedAt) / 1000);
      },
      story: (record) => hpaStory(record.decisions ?? []),
      rollout: (message) => lab.rollout(message),
    });
  } finally {
    releaseSignals();
    log('stopping the cluster');
    await lab.stop();
    log('cluster stopped');
  }
}

/** Starts the lab, with Ctrl-C / SIGTERM / exit wired to stop it and its children. */
async function withLab<T>(flags: LabFlags, body: (lab: Lab) => Promise<T>): Promise<T> {
  const kit = loadLabKit();
  const lab = await Lab.start(labOptions(kit, flags));
  const releaseSignals = stopOnSignal(lab);
  try {
    process.stdout.write(`lab: Service ${lab.serviceUrl} · control ${lab.controlUrl} · per-pod rate from ${lab.rates.description}\n`);
    for (const override of lab.overrides) process.stdout.write(`lab: override ${override}\n`);
    await lab.waitForReady(lab.deployment.desired);
    releaseSignals();
    return await body(lab);
  } finally {
    releaseSignals();
    await lab.stop();
  }
}

function addDecisions(lab: Lab) {
  return (record: RunRecord) => {
    record.decisions = lab.controller.syncs
      .filter((sync, i, all) => sync.decision.desiredReplicas !== sync.from || i === 0 || all[i - 1]!.decision.reason !== sync.decision.reason)
      .map((sync) => ({ t: sync.t, from: sync.from, to: sync.decision.desiredReplicas, reason: sync.decision.reason }));
  };
}

const labWatcher = (lab: Lab) => ({ current: () => lab.state(), stop: async () => undefined });

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

/**
 * `lab --control-plane kubernetes --scenario backlog`: a burst of messages into the workers' topic
 * through the load tool's kafka:// sender, while the AutoScalerPolicy controller scales the
 * workers on the group's lag; then a quiet tail (--after) to watch the drain and the scale-down.
 */
async function runBacklog(flags: LabFlags): Promise<void> {
  if (flags.controlPlane !== 'kubernetes') throw new InvalidArgumentError('--scenario backlog runs on --control-plane kubernetes (the AutoScalerPolicy controller and worker pods on a real control plane)');
  const started = performance.now();
  const log = (line: string) => process.stdout.write(`lab: [${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
  const cooldownS = Math.max(1, Math.round(flags.cooldown / 1000));
  const lab = await BacklogLab.start({ partitions: flags.partitions, threshold: flags.threshold, cooldownS, workMsPerMessage: flags.workMs, ...(flags.min !== undefined ? { minReplicas: flags.min } : {}), ...(flags.max !== undefined ? { maxReplicas: flags.max } : {}), log });
  const releaseSignals = stopOnSignal(lab);
  try {
    process.stdout.write(`lab: control plane kubernetes · broker ${lab.broker.bootstrap} · topic ${lab.topic} (${lab.partitions} partitions) · group ${lab.group} · KUBECONFIG=${lab.cluster.kubeconfig}\n`);
    for (const override of lab.overrides) process.stdout.write(`lab: override ${override}\n`);
    releaseSignals();
    const burst = flags.stages ?? backlogStages(flags.threshold, flags.partitions);
    // Long enough for the lag to drain and two cooldowns to pass (down as the lag falls, then to the minimum).
    const afterMs = flags.after ?? 2 * flags.cooldown + 60_000;
    const plan = planLoad([`kafka://${lab.broker.bootstrap}/${lab.topic}`], loadFlags(flags, { stages: `${burst},1ms:0,${afterMs}ms:0`, group: lab.group }));
    const { record, exitCode } = await executeLoad(plan, { stdout: process.stdout, env: process.env }, { watcher: lab.watcher });
    for (const line of await lab.story(Date.parse(record.startedAt) / 1000)) process.stdout.write(`lab: ${line}\n`);
    process.exitCode = exitCode;
  } finally {
    releaseSignals();
    log('stopping the cluster and the broker');
    await lab.stop();
    log('stopped');
  }
}

function qpsTargetOf(spec: HpaSpec): number {
  const pods = spec.metrics?.find((m) => m.type === 'Pods');
  const value = pods?.type === 'Pods' ? Number(pods.pods.target.averageValue) : NaN;
  if (!Number.isFinite(value)) throw new InvalidArgumentError('the HPA has no Pods metric target to size the scenario from; use --stages');
  return value;
}
