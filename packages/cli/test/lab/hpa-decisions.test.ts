import { describe, expect, it } from 'vitest';
import type { ObservedSync } from '@podscale/kube-local/hpa-observer.ts';
import { hpaDecisions } from '@podscale/cli/lab/kubernetes.ts';

const sync = (at: number, status: ObservedSync['status']): ObservedSync => ({ at, readAt: at, spec: { maxReplicas: 10 }, status, pods: [], podTimes: {}, metrics: {} });
const able = (reason: string, message: string) => ({ type: 'AbleToScale', status: 'True', reason, message });

describe('hpaDecisions: the real HPA status and events as run-record decisions', () => {
  it('takes rescales from SuccessfulRescale events, condition changes as kubectl describe prints them, and no rescale from a sync whose metrics failed', () => {
    const syncs = [
      // The first syncs: no metrics yet; desiredReplicas is still the status default 0.
      sync(100, { currentReplicas: 2, desiredReplicas: 0, conditions: [able('SucceededGetScale', 'the HPA controller was able to get the target\'s current scale'), { type: 'ScalingActive', status: 'False', reason: 'FailedGetPodsMetric', message: 'unable to get metric' }] }),
      sync(105, { currentReplicas: 2, desiredReplicas: 2, conditions: [able('ReadyForNewScale', 'recommended size matches current size'), { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'ok' }] }),
      sync(110, { currentReplicas: 2, desiredReplicas: 2, conditions: [able('ReadyForNewScale', 'recommended size matches current size'), { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'ok' }] }),
      sync(115, { currentReplicas: 2, desiredReplicas: 4, conditions: [able('SucceededRescale', 'the HPA controller was able to update the target scale to 4')] }),
    ];
    const events = [{ at: 115.01, reason: 'SuccessfulRescale', message: 'New size: 4; reason: pods metric http_requests_per_second above target' }];
    expect(hpaDecisions({ syncs, events }, 100)).toEqual([
      { t: 0, from: 2, to: 2, reason: "AbleToScale True SucceededGetScale: the HPA controller was able to get the target's current scale; ScalingActive False FailedGetPodsMetric: unable to get metric" },
      { t: 5, from: 2, to: 2, reason: 'AbleToScale True ReadyForNewScale: recommended size matches current size' },
      { t: 15, from: 2, to: 4, reason: 'New size: 4; reason: pods metric http_requests_per_second above target' },
    ]);
  });
});
