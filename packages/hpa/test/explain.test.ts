import { describe, expect, it } from 'vitest';
import { parseSituation } from '@podscale/hpa/explain.ts';

describe('podscale hpa explain input', () => {
  it("reads a pod's startTime and readySince as documented (docs/hpa-explain.md), in seconds", () => {
    const line = JSON.stringify({ spec: { maxReplicas: 4 }, currentReplicas: 1, now: 1000, pods: [{ name: 'p0', ready: true, startTime: 10, readySince: 20 }, { name: 'p1' }] });
    expect(parseSituation(line).pods).toEqual([
      { name: 'p0', ready: true, startTimeS: 10, readySinceS: 20 },
      { name: 'p1', startTimeS: undefined, readySinceS: undefined },
    ]);
  });
});
