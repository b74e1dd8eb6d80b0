import { describe, expect, it } from 'vitest';
import { podInfo } from '@podscale/hpa/pod-info.ts';

const started = '2026-03-29T07:30:00Z';
const readyAt = '2026-03-29T07:30:20Z';
const epoch = Date.parse(started) / 1000;

describe('podInfo', () => {
  it('gives the same pod, in epoch seconds, from a client-node V1Pod (Dates) and from plain JSON (RFC 3339 text)', () => {
    const json = {
      metadata: { name: 'p0' },
      spec: { containers: [{ resources: { requests: { cpu: '100m' } } }, { resources: { requests: { cpu: '0.25' } } }] },
      status: { phase: 'Running', startTime: started, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: readyAt }] },
    };
    const typed = { ...json, status: { ...json.status, startTime: new Date(started), conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(readyAt) }] } };
    const expected = { name: 'p0', phase: 'Running', ready: true, startTimeS: epoch, readySinceS: epoch + 20, deleting: false, requests: { cpu: '350m' } };
    expect(podInfo(json)).toEqual(expected);
    expect(podInfo(typed)).toEqual(expected);
  });

  it('leaves out what the pod does not have: no Ready condition is null, no CPU request is no request', () => {
    const pod = podInfo({ metadata: { name: 'p1', deletionTimestamp: started }, spec: { containers: [{}, { resources: { requests: { memory: '1Gi' } } }] }, status: { phase: 'Pending' } });
    expect(pod).toEqual({ name: 'p1', phase: 'Pending', ready: null, startTimeS: undefined, readySinceS: undefined, deleting: true, requests: {} });
  });
});
