/**
 * A core/v1 Pod as the replica calculator sees it. The input is structural, so both a
 * client-node V1Pod (times parsed to Date) and a pod read as plain JSON (RFC 3339 text) fit.
 */
import { formatMilli, toMilli } from './quantity.ts';
import type { PodInfo } from './types.ts';

type Time = Date | string | null;

export interface PodLike {
  metadata?: { name?: string; deletionTimestamp?: Time };
  spec?: { containers?: { resources?: { requests?: Record<string, string> } }[] };
  status?: { phase?: string; startTime?: Time; conditions?: { type: string; status: string; lastTransitionTime?: Time }[] };
}

/** Epoch seconds; an absent time stays absent (the calculator reads it as 0, as upstream's zero time). */
const seconds = (time: Time | undefined) => (time ? new Date(time).getTime() / 1000 : undefined);

export function podInfo(pod: PodLike): PodInfo {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  // resourcehelper.PodRequests: a resource no container requests is missing (the calculator then
  // fails the metric, as upstream does), one only some request is their sum.
  const requests: Record<string, string> = {};
  const cpu = (pod.spec?.containers ?? []).reduce<number | undefined>((sum, c) => {
    const request = c.resources?.requests?.cpu;
    return request === undefined ? sum : (sum ?? 0) + toMilli(request);
  }, undefined);
  if (cpu !== undefined) requests.cpu = formatMilli(cpu);
  return {
    name: pod.metadata?.name ?? '',
    phase: pod.status?.phase as PodInfo['phase'],
    ready: ready === undefined ? null : ready.status === 'True',
    startTimeS: seconds(pod.status?.startTime),
    readySinceS: seconds(ready?.lastTransitionTime),
    deleting: pod.metadata?.deletionTimestamp !== undefined,
    requests,
  };
}
