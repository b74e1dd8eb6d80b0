import type { HpaSpec } from '@podscale/hpa/types.ts';
import type { RunRecord } from '../load/record.ts';
import type { ReplicaWatcher } from '../load/watch/replicas.ts';
import type { LabFlags } from './flags.ts';
import { loadLabKit, type LabKit } from './kit.ts';
import { hpaDecisions, hpaStory, KubernetesLab } from './kubernetes.ts';
import { Lab, type HpaOverrides, type LabOptions } from './lab.ts';
import { elapsedLog, inSession, startHoldingSignals, type Session } from './session.ts';
import { scalingStory } from './story.ts';
import { minorOf, releaseOf } from '@podscale/kube-local/releases.ts';
import { parseKubernetesVersion } from '@podscale/hpa/gates.ts';

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
    // The port follows the feature gates and controller behaviour of the release a real control plane would run.
    kubernetesVersion: parseKubernetesVersion(minorOf(releaseOf(flags.kubernetesVersion)), '--kubernetes-version'),
    ...(flags.syncPeriod !== undefined ? { syncPeriodS: flags.syncPeriod / 1000 } : {}),
    ...(flags.scrapeInterval !== undefined ? { scrapeIntervalS: flags.scrapeInterval / 1000 } : {}),
    ...(flags.rateWindow !== undefined ? { rateWindowS: flags.rateWindow / 1000 } : {}),
  };
}

/** What a scenario or a rollout needs from the control plane it runs on. */
export interface LabRun {
  serviceUrl: string;
  /** The HPA that scales the run, overrides applied. */
  spec: HpaSpec;
  watcher: ReplicaWatcher;
  /** Fills record.decisions from the HPA that scaled the run. */
  complete: (record: RunRecord) => void;
  /** What drove the replicas, told from that HPA's own decisions once the run is complete. */
  story: (record: RunRecord) => string[];
  rollout: (log: (message: string) => void) => Promise<void>;
}

type ControlPlane = LabRun & Session;

/** The local lab: the HPA port, the Service proxy and the pods as processes on this machine. */
async function startLab(flags: LabFlags): Promise<ControlPlane> {
  const kit = loadLabKit();
  const lab = await Lab.start(labOptions(kit, flags));
  return {
    banner: `Service ${lab.serviceUrl} · control ${lab.controlUrl} · per-pod rate from ${lab.rates.description}`,
    overrides: lab.overrides,
    ready: () => lab.waitForReady(lab.deployment.desired),
    stop: () => lab.stop(),
    shutdown: () => lab.stop(),
    serviceUrl: lab.serviceUrl,
    spec: lab.controller.options.spec,
    watcher: { current: () => lab.state(), stop: async () => undefined },
    complete: (record) => {
      // A sync that neither rescaled nor changed its reason says nothing new.
      record.decisions = lab.controller.syncs
        .filter((sync, i, all) => sync.decision.desiredReplicas !== sync.from || i === 0 || all[i - 1]!.decision.reason !== sync.decision.reason)
        .map((sync) => ({ t: sync.t, from: sync.from, to: sync.decision.desiredReplicas, reason: sync.decision.reason }));
    },
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
  if (unsupported.length > 0) throw new Error(`${unsupported.map(([flag]) => flag).join(', ')}: not with --control-plane kubernetes, which runs the kit's own Prometheus and adapter configuration`);
  if (!flags.prometheus) throw new Error('--no-prometheus: not with --control-plane kubernetes, which runs the kit\'s Prometheus');
}

/** A real control plane (--kubernetes-version, default the pinned release) on this machine, with the kit applied and its HPA observed. */
async function startKubernetes(flags: LabFlags): Promise<ControlPlane> {
  kubernetesOnlyChecks(flags);
  const kit = loadLabKit();
  const log = elapsedLog();
  const hpa = hpaOverrides(flags);
  const syncPeriodS = flags.syncPeriod !== undefined ? flags.syncPeriod / 1000 : undefined;
  // Says why it cannot run here (binaries, root) before it announces anything.
  const lab = await KubernetesLab.start({ kit, hpa, ...(syncPeriodS !== undefined ? { syncPeriodS } : {}), kubernetesVersion: releaseOf(flags.kubernetesVersion), log });
  return {
    banner: `control plane kubernetes · Service ${lab.serviceUrl} · KUBECONFIG=${lab.cluster.kubeconfig}`,
    overrides: lab.overrides,
    ready: () => lab.waitForReady(kit.replicas),
    stop: () => lab.stop(),
    shutdown: async () => {
      log('stopping the cluster');
      await lab.stop();
      log('cluster stopped');
    },
    serviceUrl: lab.serviceUrl,
    spec: lab.spec,
    // The load run stops the watcher it is given; the lab stops its own.
    watcher: { current: () => lab.watcher.current(), stop: async () => undefined },
    complete: (record) => {
      record.decisions = hpaDecisions(lab.observer, Date.parse(record.startedAt) / 1000);
    },
    story: (record) => hpaStory(record.decisions ?? []),
    rollout: (message) => lab.rollout(message),
  };
}

/** Runs the body on the control plane --control-plane names, started, ready, and stopped after. */
export async function withControlPlane<T>(flags: LabFlags, body: (run: LabRun) => Promise<T>): Promise<T> {
  const plane = await startHoldingSignals(() => (flags.controlPlane === 'kubernetes' ? startKubernetes(flags) : startLab(flags)));
  return inSession(plane, body);
}
