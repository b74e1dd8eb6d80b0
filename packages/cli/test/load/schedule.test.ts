import { describe, expect, it } from 'vitest';
import { ArrivalSchedule, constantRate, parseStages } from '@podscale/cli/load/schedule.ts';

describe('parseStages', () => {
  it('ramps each stage from the previous target, starting at 0', () => {
    expect(parseStages('30s:50,2m:400,1m:400,30s:0')).toEqual([
      { durationS: 30, from: 0, to: 50 },
      { durationS: 120, from: 50, to: 400 },
      { durationS: 60, from: 400, to: 400 },
      { durationS: 30, from: 400, to: 0 },
    ]);
  });

  it.each(['30s', '30s:', 'x:5', '0s:5', '10s:-1'])('rejects %s', (text) => {
    expect(() => parseStages(text)).toThrow();
  });
});

describe('ArrivalSchedule', () => {
  it('a constant rate schedules rate × duration requests, evenly', () => {
    const schedule = new ArrivalSchedule(constantRate(500, 5));
    expect(schedule.totalRequests).toBe(2500);
    expect(schedule.dueTime(1)).toBeCloseTo(0.002, 6);
    expect(schedule.dueTime(2500)).toBeCloseTo(5, 6);
    expect(schedule.countAt(2)).toBeCloseTo(1000, 6);
  });

  it('a linear ramp follows the integral of its rate', () => {
    const schedule = new ArrivalSchedule(parseStages('10s:100,10s:100,10s:0'));
    // 0→100 over 10 s is 500 requests, then 1000, then 500.
    expect(schedule.totalRequests).toBe(2000);
    expect(schedule.countAt(5)).toBeCloseTo(125, 6);
    expect(schedule.rateAt(5)).toBeCloseTo(50, 6);
    expect(schedule.rateAt(25)).toBeCloseTo(50, 6);
    for (const k of [1, 125, 500, 501, 1500, 1501, 1999, 2000]) expect(schedule.countAt(schedule.dueTime(k) - 1e-9)).toBeCloseTo(k, 3);
  });

  it('due times never go backwards, including across a pause', () => {
    // 50/s for 2 s, down to 0 over 1 s, 1 s of nothing, then up to 80/s.
    const schedule = new ArrivalSchedule(parseStages('2s:50,1s:0,1s:0,2s:80'));
    let previous = 0;
    for (let k = 1; k <= schedule.totalRequests; k += 1) {
      const due = schedule.dueTime(k);
      expect(due).toBeGreaterThanOrEqual(previous);
      expect(due <= 3 + 1e-9 || due > 4).toBe(true);
      previous = due;
    }
  });
});
