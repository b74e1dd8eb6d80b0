import { InvalidArgumentError } from 'commander';
import type { RunRecord } from '../load/record.ts';
import type { ReplicaWatcher } from '../load/watch/replicas.ts';
import type { LabFlags } from './flags.ts';
import { loadLabKit, type LabKit } from './kit.ts';
import { hpaDecisions, hpaStory, KubernetesLab } from './kubernetes.ts';
import { Lab, type HpaOverrides, type LabOptions } from './lab.ts';
import { qpsTargetOf } from './scenarios.ts';
import { stopOnSignal } from './session.ts';
import { scalingStory } from './story.ts';

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

/** What a scenario or a rollout needs from the control plane it runs on. */
export interface LabRun {
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

/** Starts the lab on the chosen control plane, with Ctrl-C / SIGTERM / exit wired to stop it. */
export async function withControlPlane(flags: LabFlags, body: (run: LabRun) => Promise<void>): Promise<void> {
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
