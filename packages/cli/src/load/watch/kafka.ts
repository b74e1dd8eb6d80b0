import type { Admin } from 'kafkajs';
import { readConsumerLag } from '@podscale/kafka/lag.ts';

/**
 * What the consumer group looked like at the latest reading, as a timeline point carries it. The
 * figures are null only while no reading has succeeded yet (then `error` says why).
 */
export interface KafkaPoint {
  /** Σ partitions (log end offset − the group's committed offset), as packages/kafka/src/lag.ts defines it. */
  lag: number | null;
  /** Members of the group (DescribeGroups). */
  consumers: number | null;
  partitions: number | null;
  /** Σ log end offsets: every message the topic has had written. */
  endOffset: number | null;
  /** How old the reading was when the point took it. */
  ageMs: number | null;
  /** The latest reading failed with this; the figures are the last good ones. */
  error?: string;
}

export interface KafkaLagWatcher {
  /** The latest reading, or undefined before the first one. */
  current(): KafkaPoint | undefined;
  /** Stops sampling and takes one more reading, once the outstanding one (if any) has finished. */
  stop(): Promise<KafkaPoint | undefined>;
}

interface Reading {
  lag: number;
  consumers: number;
  partitions: number;
  endOffset: number;
  at: number;
}

export interface KafkaLagOptions {
  /** Between readings (default 1 s, the load run's interval). */
  intervalMs?: number;
  /**
   * How long before each interval's end a reading starts (default 200 ms). Started together with
   * the interval, each reading would land just after the point it was meant for, and every point
   * would show the lag of a second earlier.
   */
  leadMs?: number;
}

/**
 * Reads the group's lag and members at once and then every intervalMs, `leadMs` before each of
 * the run's interval ends (call it when the run starts). Readings never overlap: a tick that comes
 * while the previous reading is outstanding (a slow broker) is skipped rather than queued, so a
 * struggling broker gets one reader's requests, not a pile of them.
 */
export function watchKafkaLag(admin: Admin, groupId: string, topic: string, options: KafkaLagOptions = {}): KafkaLagWatcher {
  const intervalMs = options.intervalMs ?? 1000;
  const leadMs = Math.min(options.leadMs ?? 200, intervalMs);
  let reading: Reading | undefined;
  let error: string | undefined;
  let outstanding: Promise<void> | undefined;
  const read = async () => {
    try {
      // One attempt: the next tick is the retry.
      const [lag, described] = await Promise.all([readConsumerLag(admin, groupId, topic, { attempts: 1 }), admin.describeGroups([groupId])]);
      const members = described.groups.find((group) => group.groupId === groupId)?.members.length ?? 0;
      reading = { lag: lag.total, consumers: members, partitions: lag.partitionCount, endOffset: lag.partitions.reduce((sum, p) => sum + p.logEndOffset, 0), at: performance.now() };
      error = undefined;
    } catch (cause) {
      error = (cause as Error).message;
    }
  };
  const sample = () => {
    if (outstanding) return;
    outstanding = read().finally(() => (outstanding = undefined));
  };
  sample();
  let timer: NodeJS.Timeout = setTimeout(() => {
    sample();
    timer = setInterval(sample, intervalMs);
  }, intervalMs - leadMs);
  const current = (): KafkaPoint | undefined => {
    if (!reading) return error === undefined ? undefined : { lag: null, consumers: null, partitions: null, endOffset: null, ageMs: null, error };
    const { at, ...figures } = reading;
    return { ...figures, ageMs: Math.round(performance.now() - at), ...(error === undefined ? {} : { error }) };
  };
  return {
    current,
    async stop() {
      clearTimeout(timer);
      await outstanding;
      await read();
      return current();
    },
  };
}
