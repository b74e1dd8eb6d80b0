/**
 * The backlog lab: Kafka consumers scaled on their group's lag by the AutoScalerPolicy controller,
 * on the real control plane. A cluster of the pinned release on this machine (the real node where it can run,
 * else the node agent), a real Kafka broker on
 * the pod bridge's node address (reachable from the pods and from the host, nothing else), the
 * controller as the pods of `k8s/controller`, the workers as the pods of `k8s/worker`. The kit is
 * applied as a user applies it, with the lab's values put into the built objects (the brokers'
 * address, the policy's threshold, cooldown and bounds) and printed as overrides.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { parseAllDocuments, stringify } from 'yaml';
import { KUBERNETES_VERSION, missingBinaries, type ClusterBinary } from '@podscale/kube-local/binaries.ts';
import { Cluster, type NodeKind } from '@podscale/kube-local/cluster.ts';
import { brokerUnavailableReason, KafkaBroker } from '@podscale/kafka/broker.ts';
import { createKafka } from '@podscale/kafka/client.ts';
import { readConsumerLag, type ConsumerLag } from '@podscale/kafka/lag.ts';
import { SHIPPED_KIT_DIR, type KubeObject } from '../kit/manifests.ts';
import { watchDeployment } from '../load/watch/kubernetes.ts';
import type { ReplicaWatcher } from '../load/watch/replicas.ts';
import { createTopic } from '@podscale/kafka/topics.ts';
import { REPO_ROOT } from '../repo-root.ts';

const NEEDS: ClusterBinary[] = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'];
const NAMESPACE = 'podscale';
const WORKERS = 'podscale-worker';
const CONTROLLER = 'podscale-controller';

export interface BacklogLabOptions {
  /** Partitions of the topic: the most workers that get work (default 6). */
  partitions?: number;
  /** The policy's threshold: messages of backlog one worker is meant to carry (default 200). */
  threshold?: number;
  /** The policy's cooldownSeconds, and the controller's --min-cooldown (default 30). */
  cooldownS?: number;
  minReplicas?: number;
  maxReplicas?: number;
  /** The workers' WORK_MS_PER_MESSAGE (default 20: 50 messages/s per worker). */
  workMsPerMessage?: number;
  /** The controller's --resync: how often it reads the lag (default 5 s). */
  resyncS?: number;
  /** The workers' LOG_LEVEL (debug logs each processed message). */
  workerLogLevel?: 'info' | 'debug';
  /** Which node runs the pods (default `auto`: the real node where it can run, else the agent). */
  node?: NodeKind | 'auto';
  log?: (line: string) => void;
}

/** Why the backlog lab cannot run here, in one line, or undefined. */
export async function backlogUnavailable(): Promise<string | undefined> {
  const missing = await missingBinaries(NEEDS);
  if (missing.length > 0) return `the backlog lab needs the Kubernetes ${KUBERNETES_VERSION} control plane built (missing ${missing.join(', ')}): run bash scripts/setup.sh --with-cluster (needs Go)`;
  const broker = await brokerUnavailableReason();
  if (broker) return `the backlog lab needs a Kafka broker: ${broker}`;
  const cluster = await Cluster.unavailable();
  return cluster ? `the backlog lab cannot run here: ${cluster}` : undefined;
}

/** The parts of the built kit objects the lab changes. */
interface BuiltObject extends KubeObject {
  data?: Record<string, string>;
  spec?: {
    template?: { spec: { containers: { args?: string[]; env?: { name: string; value?: string }[] }[] } };
    metrics?: Record<string, unknown>[];
    [field: string]: unknown;
  };
}

/** `kubectl kustomize DIR` as objects, changed by `edit`, as one YAML stream for `kubectl apply -f -`. */
async function builtWith(cluster: Cluster, dir: string, edit: (object: BuiltObject) => void): Promise<string> {
  const built = (await cluster.kubectl(['kustomize', dir])).stdout;
  const objects = parseAllDocuments(built).map((document) => document.toJS() as BuiltObject);
  for (const object of objects) edit(object);
  return objects.map((object) => stringify(object)).join('---\n');
}

export class BacklogLab {
  readonly cluster: Cluster;
  readonly broker: KafkaBroker;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly topic: string;
  readonly group: string;
  readonly partitions: number;
  readonly threshold: number;
  readonly cooldownS: number;
  readonly namespace = NAMESPACE;
  readonly deploymentName = WORKERS;
  readonly watcher: ReplicaWatcher;
  /** What differs from the shipped kit, one line each. */
  readonly overrides: string[];
  readonly #dir: string;
  #stopped = false;

  private constructor(fields: Omit<BacklogLab, 'namespace' | 'deploymentName' | 'lag' | 'replicas' | 'story' | 'stop'> & { dir: string }) {
    this.cluster = fields.cluster;
    this.broker = fields.broker;
    this.kafka = fields.kafka;
    this.admin = fields.admin;
    this.topic = fields.topic;
    this.group = fields.group;
    this.partitions = fields.partitions;
    this.threshold = fields.threshold;
    this.cooldownS = fields.cooldownS;
    this.watcher = fields.watcher;
    this.overrides = fields.overrides;
    this.#dir = fields.dir;
  }

  static async start(options: BacklogLabOptions = {}): Promise<BacklogLab> {
    const unavailable = await backlogUnavailable();
    if (unavailable) throw new Error(unavailable);
    const log = options.log ?? (() => undefined);
    const partitions = options.partitions ?? 6;
    const threshold = options.threshold ?? 200;
    const cooldownS = options.cooldownS ?? 30;
    const resyncS = options.resyncS ?? 5;
    const minReplicas = options.minReplicas ?? 1;
    const maxReplicas = options.maxReplicas ?? 10;
    const workMs = options.workMsPerMessage ?? 20;
    const dir = await mkdtemp(join(tmpdir(), 'podscale-backlog-'));
    let cluster: Cluster | undefined;
    let broker: KafkaBroker | undefined;
    let admin: Admin | undefined;
    try {
      let node = options.node ?? 'auto';
      if (node === 'auto') {
        const choice = await Cluster.autoNode();
        node = choice.node;
        if (choice.why) log(`node: agent, since a real node cannot run here: ${choice.why}`);
      }
      log(`starting a Kubernetes ${KUBERNETES_VERSION} control plane on this machine (${node === 'real' ? 'a real node: kubelet, containerd, runc, CNI bridge, kube-proxy' : 'node agent'})`);
      cluster = await Cluster.start({ dir: join(dir, 'cluster'), repoRoot: REPO_ROOT, node, log });
      broker = await KafkaBroker.start({ host: cluster.network.nodeIp, dir: join(dir, 'kafka') });
      log(`kafka ${broker.version} started on ${broker.bootstrap} (the pod bridge's node address) in ${broker.startMs} ms`);
      const kafka = createKafka({ brokers: [broker.bootstrap], clientId: 'podscale-lab' });
      admin = kafka.admin();
      await admin.connect();

      // The topic and group the shipped worker kit names, with the lab's partition count.
      const workerKit = join(SHIPPED_KIT_DIR, 'worker');
      const shipped = parseAllDocuments((await cluster.kubectl(['kustomize', workerKit])).stdout).map((d) => d.toJS() as KubeObject & { data?: Record<string, string> });
      const config = shipped.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(WORKERS))!.data!;
      const topic = config.KAFKA_TOPIC!;
      const group = config.KAFKA_GROUP_ID!;
      await createTopic(admin, topic, partitions);
      log(`topic ${topic}: ${partitions} partitions`);

      const overrides = [
        `worker ConfigMap: KAFKA_BROKERS=${broker.bootstrap}, WORK_MS_PER_MESSAGE=${workMs} (shipped ${config.WORK_MS_PER_MESSAGE})${options.workerLogLevel ? `, LOG_LEVEL=${options.workerLogLevel}` : ''}`,
        `policy ${WORKERS}: bootstrapServers [${broker.bootstrap}], threshold ${threshold}, cooldownSeconds ${cooldownS}, minReplicas ${minReplicas}, maxReplicas ${maxReplicas}`,
        `controller: --min-cooldown=${cooldownS}s (shipped 120s), --resync=${resyncS}s (shipped 15s)`,
      ];
      await cluster.kubectl(['apply', '--server-side', '-f', join(SHIPPED_KIT_DIR, 'namespace.yaml')]);
      const controllerKit = await builtWith(cluster, join(SHIPPED_KIT_DIR, 'controller'), (object) => {
        if (object.kind === 'Deployment' && object.metadata.name === CONTROLLER) object.spec!.template!.spec.containers[0]!.args!.push(`--min-cooldown=${cooldownS}s`, `--resync=${resyncS}s`);
      });
      log('kubectl apply --server-side -k k8s/controller (overrides above)');
      await cluster.kubectl(['apply', '--server-side', '-f', '-'], controllerKit);
      await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/autoscalerpolicies.autoscale.podscale.dev']);
      const workers = await builtWith(cluster, workerKit, (object) => {
        if (object.kind === 'ConfigMap' && object.metadata.name.startsWith(WORKERS)) {
          Object.assign(object.data!, { KAFKA_BROKERS: broker!.bootstrap, WORK_MS_PER_MESSAGE: String(workMs), ...(options.workerLogLevel ? { LOG_LEVEL: options.workerLogLevel } : {}) });
        }
        if (object.kind === 'Deployment' && object.metadata.name === WORKERS && options.workerLogLevel) {
          // LOG_LEVEL is set in the container's env, which wins over envFrom.
          for (const variable of object.spec!.template!.spec.containers[0]!.env ?? []) if (variable.name === 'LOG_LEVEL') variable.value = options.workerLogLevel;
        }
        if (object.kind === 'AutoScalerPolicy') {
          Object.assign(object.spec!, { cooldownSeconds: cooldownS, minReplicas, maxReplicas });
          Object.assign(object.spec!.metrics![0]!, { bootstrapServers: [broker!.bootstrap], threshold });
        }
      });
      log('kubectl apply --server-side -k k8s/worker (overrides above)');
      await cluster.kubectl(['apply', '--server-side', '-f', '-'], workers);
      for (const deployment of [CONTROLLER, WORKERS]) await cluster.kubectl(['rollout', 'status', '-n', NAMESPACE, `deployment/${deployment}`, '--timeout=180s']);
      log('controller and workers rolled out');
      process.env.KUBECONFIG = cluster.kubeconfig;
      const watcher = await watchDeployment(WORKERS, NAMESPACE);
      return new BacklogLab({ cluster, broker, kafka, admin, topic, group, partitions, threshold, cooldownS, watcher, overrides, dir });
    } catch (error) {
      await admin?.disconnect().catch(() => undefined);
      await broker?.stop().catch(() => undefined);
      await cluster?.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The group's lag on the topic now, read as the policy reads it. */
  lag(): Promise<ConsumerLag> {
    return readConsumerLag(this.admin, this.group, this.topic);
  }

  /** The workers' spec.replicas, as the policy last wrote it. */
  async replicas(): Promise<number> {
    return Number((await this.cluster.kubectl(['get', 'deployment', WORKERS, '-n', NAMESPACE, '-o', 'jsonpath={.spec.replicas}'])).stdout);
  }

  /**
   * What drove the workers, in the controller's own words: each Event it wrote on the policy
   * ("Scaled Deployment podscale-worker from 1 to 6: ..."), t in seconds since `since` (epoch s).
   */
  async story(since: number): Promise<string[]> {
    const list = JSON.parse((await this.cluster.kubectl(['get', 'events', '-n', NAMESPACE, '--field-selector', `involvedObject.kind=AutoScalerPolicy,involvedObject.name=${WORKERS}`, '-o', 'json'])).stdout) as {
      items: { reason: string; message: string; count?: number; firstTimestamp?: string; lastTimestamp?: string; eventTime?: string }[];
    };
    const events = list.items
      .map((event) => ({ ...event, at: Date.parse(event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? '') / 1000 }))
      .sort((a, b) => a.at - b.at);
    if (events.length === 0) return ['the policy wrote no Event: the workers were not scaled'];
    return ['what drove the workers (the AutoScalerPolicy controller\'s Events):', ...events.map((event) => `  ${(event.at - since).toFixed(0).padStart(4)}s  ${event.reason}: ${event.message}${(event.count ?? 1) > 1 ? ` (×${event.count})` : ''}`)];
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.watcher.stop().catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
    // The pods first (they drain and leave the group), then the broker they talk to.
    await this.cluster.stop();
    await this.broker.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
