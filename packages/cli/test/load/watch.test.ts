import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyWatchEvent, toReplicaState, type DeploymentObject, type HpaObject } from '@podscale/cli/load/watch/kubernetes.ts';

interface RecordedEvent {
  kind: 'Deployment' | 'HorizontalPodAutoscaler';
  type: string;
  object: DeploymentObject | HpaObject;
}

// Watch events in the shape the API server streams them (`kubectl get --raw '...?watch=1'`), for
// a scale-up from 2 to 6 pods.
const events = JSON.parse(readFileSync(new URL('../../../../test/fixtures/watch/kubernetes-events.json', import.meta.url), 'utf8')) as RecordedEvent[];

function replay(upTo: number) {
  return events.slice(0, upTo).reduce((state, event) => applyWatchEvent(state, event.kind, event.type, event.object, 'podscale'), {});
}

describe('the Kubernetes replica watcher', () => {
  it('knows nothing before the Deployment is seen', () => {
    expect(toReplicaState({})).toBeUndefined();
  });

  it('follows the named Deployment and ignores others', () => {
    expect(toReplicaState(replay(2))).toEqual({ source: 'kubernetes', name: 'podscale', desired: 2, ready: 2, metrics: [] });
  });

  it('shows each HPA metric with <unknown> current value until the HPA has one', () => {
    expect(toReplicaState(replay(3))!.metrics).toEqual([
      { name: 'cpu', current: null, target: '60%' },
      { name: 'http_requests_per_second', current: null, target: '100' },
    ]);
  });

  it('shows current metric values and the scale-up as desired vs ready', () => {
    expect(toReplicaState(replay(4))!.metrics).toEqual([
      { name: 'cpu', current: '41%', target: '60%' },
      { name: 'http_requests_per_second', current: '287500m', target: '100' },
    ]);
    expect(toReplicaState(replay(5))).toMatchObject({ desired: 6, ready: 2 });
    expect(toReplicaState(replay(6))).toMatchObject({ desired: 6, ready: 6 });
  });

  it('forgets a deleted Deployment', () => {
    const state = applyWatchEvent(replay(6), 'Deployment', 'DELETED', events[0]!.object, 'podscale');
    expect(toReplicaState(state)).toBeUndefined();
  });

  it('ignores an HPA that targets another workload', () => {
    const foreign = structuredClone(events[3]!.object) as HpaObject;
    foreign.spec.scaleTargetRef.name = 'other';
    const state = applyWatchEvent(replay(3), 'HorizontalPodAutoscaler', 'MODIFIED', foreign, 'podscale');
    expect(toReplicaState(state)!.metrics.every((m) => m.current === null)).toBe(true);
  });
});
