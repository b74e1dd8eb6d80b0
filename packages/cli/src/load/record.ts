import type { IntervalReport, RunSummary } from './engine.ts';
import type { Stage } from './schedule.ts';
import type { KafkaPoint } from './watch/kafka.ts';
import type { ReplicaState } from './watch/replicas.ts';

/** One reporting interval with what the replica watcher (and, for Kafka, the lag reader) saw at its end. */
export interface TimelinePoint extends IntervalReport {
  replicas?: ReplicaState;
  kafka?: KafkaPoint;
}

/** A kafka:// run: where it produced, and the group whose lag it followed. */
export interface KafkaRun {
  brokers: string[];
  topic: string;
  partitions: number;
  group?: string;
  key?: string;
  /** A reading of the group taken after the last message was acked (with --group). */
  end?: KafkaPoint;
}

/** A scaling decision, when the run was driven by the lab's HPA controller. */
export interface ScalingDecision {
  t: number;
  from: number;
  to: number;
  reason: string;
}

/** Everything `--out run.json` holds; `podscale report run.json` renders it again. */
export interface RunRecord {
  tool: 'podscale load';
  version: string;
  startedAt: string;
  options: {
    targets: { url: string; method: string; weight: number }[];
    stages: Stage[];
    maxInFlight: number;
    connections: number;
    timeoutMs: number;
    watch?: string;
  };
  timeline: TimelinePoint[];
  summary: RunSummary;
  thresholds: { name: string; limit: number; actual: number; passed: boolean }[];
  decisions?: ScalingDecision[];
  /** Present when the target was kafka://: completed then means acked, and no status classes apply. */
  kafka?: KafkaRun;
}
