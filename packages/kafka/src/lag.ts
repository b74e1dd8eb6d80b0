/**
 * Consumer-group lag, read with the client's admin API: for each partition of the topic,
 * lag = log end offset − the group's committed offset, and the sum over partitions.
 *
 * A partition where the group has committed nothing counts from its earliest offset (the log start,
 * `low`): that is where a consumer with `auto.offset.reset=earliest` (the worker: `fromBeginning`)
 * starts, so every message still in the log is waiting for it. A group that resets to `latest`
 * would skip those, and the figure then overstates its backlog until it commits — the honest
 * reading of "nothing processed yet" is "everything retained is behind". The same floor applies to a
 * committed offset older than the log start (retention deleted the messages it pointed at): the
 * consumer resumes at the log start, so messages that no longer exist are not counted as lag.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';

export interface PartitionLag {
  partition: number;
  /** The offset the next produced message gets (the "high watermark"). */
  logEndOffset: number;
  /** The earliest offset still in the log. */
  logStartOffset: number;
  /** What the group committed (the next offset it will read); undefined = nothing committed. */
  committedOffset: number | undefined;
  lag: number;
}

export interface ConsumerLag {
  topic: string;
  groupId: string;
  /** One entry per partition of the topic, by partition number. */
  partitions: PartitionLag[];
  /** Σ partitions' lag. */
  total: number;
  partitionCount: number;
}

export interface ReadLagOptions {
  /**
   * Tries in all when the broker answers with a retriable error (default 5, ~1.5 s). kafkajs'
   * fetchOffsets does not retry by itself, and a group coordinator that is still loading the offsets
   * topic (the first seconds after a broker starts or moves the group) says so with one.
   */
  attempts?: number;
}

/** Reads the lag of `groupId` on `topic`: two admin requests (ListOffsets, OffsetFetch). */
export async function readConsumerLag(admin: Admin, groupId: string, topic: string, options: ReadLagOptions = {}): Promise<ConsumerLag> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await readOnce(admin, groupId, topic);
    } catch (error) {
      if (attempt >= attempts || !(error as { retriable?: boolean }).retriable) throw error;
      await sleep(100 * 2 ** (attempt - 1));
    }
  }
}

async function readOnce(admin: Admin, groupId: string, topic: string): Promise<ConsumerLag> {
  const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const committedByPartition = new Map<number, number>();
  for (const { partition, offset } of committed?.partitions ?? []) {
    // kafkajs reports "no committed offset" as -1.
    const value = Number(offset);
    if (value >= 0) committedByPartition.set(partition, value);
  }
  const partitions = ends
    .map(({ partition, high, low }): PartitionLag => {
      const logEndOffset = Number(high);
      const logStartOffset = Number(low);
      const committedOffset = committedByPartition.get(partition);
      const from = Math.max(committedOffset ?? logStartOffset, logStartOffset);
      return { partition, logEndOffset, logStartOffset, committedOffset, lag: Math.max(0, logEndOffset - from) };
    })
    .sort((a, b) => a.partition - b.partition);
  return { topic, groupId, partitions, total: partitions.reduce((sum, p) => sum + p.lag, 0), partitionCount: partitions.length };
}
