import { readFileSync } from 'node:fs';
import type { Target } from './engine.ts';
import { constantRate, parseStages, type Stage } from './schedule.ts';
import { parseKafkaUrl, type KafkaTarget } from './send/kafka-target.ts';

export interface LoadFlags {
  rate: number;
  duration: number;
  stages?: string;
  maxInFlight: number;
  connections: number;
  timeout: number;
  method: string;
  header: Record<string, string>;
  body?: string;
  bodyFile?: string;
  weights?: number[];
  watch?: string;
  namespace: string;
  out?: string;
  report?: string;
  maxErrorRate?: number;
  maxP99?: number;
  plain?: boolean;
  maxRequestsPerConnection?: number;
  /** kafka:// only: the consumer group whose lag and members the run follows. */
  group?: string;
  /** kafka:// only: the message key; `{seq}` becomes the message's number. */
  key?: string;
  /** kafka:// only: create the topic with this many partitions when it does not exist. */
  createTopic?: number;
}

export interface LoadPlan {
  /** HTTP targets; empty for a kafka:// run. */
  targets: Target[];
  /** Where a kafka:// run produces. */
  kafka?: KafkaTarget;
  /** The message value or request body (--body, --body-file). */
  body?: string;
  stages: Stage[];
  flags: LoadFlags;
}

/** Options that mean something for one transport only, by commander attribute name. */
const HTTP_ONLY: Partial<Record<keyof LoadFlags, string>> = {
  method: '-X/--method',
  header: '-H/--header',
  weights: '-w/--weights',
  connections: '-c/--connections',
  maxRequestsPerConnection: '--max-requests-per-connection',
};
const KAFKA_ONLY: Partial<Record<keyof LoadFlags, string>> = { group: '--group', key: '--key', createTopic: '--create-topic' };

/**
 * Turns flags into a plan, or throws an Error that gives the reason. `given` holds the
 * options the user typed (commander knows; defaults are not "given"), so that an HTTP-only option
 * on a kafka:// run is refused rather than ignored.
 */
export function planLoad(urls: string[], flags: LoadFlags, given: ReadonlySet<string> = new Set()): LoadPlan {
  const body = flags.bodyFile ? readFileSync(flags.bodyFile, 'utf8') : flags.body;
  const stages = planStages(flags);
  const kafkaUrls = urls.filter((text) => /^kafka:/i.test(text));
  if (kafkaUrls.length > 0) {
    if (urls.length > 1) throw new Error(`a kafka:// target runs alone: got ${urls.length} URLs (${urls.join(' ')})`);
    const misplaced = Object.entries(HTTP_ONLY).filter(([name]) => given.has(name) || (name === 'weights' && flags.weights));
    if (misplaced.length > 0) throw new Error(`${misplaced.map(([, option]) => option).join(', ')} ${misplaced.length > 1 ? 'apply' : 'applies'} to http(s) targets, not kafka://`);
    if (flags.group !== undefined && flags.group.trim() === '') throw new Error('--group needs a consumer group id');
    const kafka = parseKafkaUrl(urls[0]!);
    return { targets: [], kafka, ...(body !== undefined ? { body } : {}), stages, flags };
  }
  const misplaced = Object.entries(KAFKA_ONLY).filter(([name]) => flags[name as keyof LoadFlags] !== undefined);
  if (misplaced.length > 0) throw new Error(`${misplaced.map(([, option]) => option).join(', ')} ${misplaced.length > 1 ? 'apply' : 'applies'} to kafka:// targets only`);
  if (flags.weights && flags.weights.length !== urls.length) throw new Error(`--weights has ${flags.weights.length} values for ${urls.length} URLs`);
  const targets = urls.map((text, i) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new Error(`"${text}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${text}" is not an http(s) URL`);
    return { url, method: flags.method.toUpperCase(), headers: flags.header, ...(body !== undefined ? { body } : {}), weight: flags.weights?.[i] ?? 1 };
  });
  return { targets, ...(body !== undefined ? { body } : {}), stages, flags };
}

function planStages(flags: LoadFlags): Stage[] {
  try {
    return flags.stages ? parseStages(flags.stages) : constantRate(flags.rate, flags.duration / 1000);
  } catch (error) {
    throw new Error(`--stages: ${(error as Error).message}`);
  }
}
