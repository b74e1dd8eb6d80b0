import { describe, expect, it } from 'vitest';
import { entryInForce, parseDays, zonedInstant } from '@podscale/operator/schedule.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('schedule: the entry in force', () => {
  const nightAndDay = [
    { time: '22:00', replicas: 2 },
    { time: '09:00', replicas: 10 },
  ];

  it('wraps over midnight: the latest start at or before now, yesterday if none today', () => {
    expect(entryInForce(nightAndDay, at('2026-01-10T03:00:00Z'))).toMatchObject({ entry: { time: '22:00' }, since: at('2026-01-09T22:00:00Z') });
    expect(entryInForce(nightAndDay, at('2026-01-10T08:59:59Z'))?.entry.time).toBe('22:00');
    expect(entryInForce(nightAndDay, at('2026-01-10T09:00:00Z'))).toMatchObject({ entry: { time: '09:00' }, since: at('2026-01-10T09:00:00Z') });
    expect(entryInForce(nightAndDay, at('2026-01-10T21:59:00Z'))?.entry.time).toBe('09:00');
    expect(entryInForce(nightAndDay, at('2026-01-10T23:30:00Z'))).toMatchObject({ entry: { time: '22:00' }, since: at('2026-01-10T22:00:00Z') });
    expect(entryInForce([], at('2026-01-10T23:30:00Z'))).toBeUndefined();
    expect(entryInForce(undefined, at('2026-01-10T23:30:00Z'))).toBeUndefined();
  });

  it('reads times in the policy time zone, across the Europe/Berlin DST changes', () => {
    const zone = 'Europe/Berlin';
    // Winter (CET, +1): 09:00 is 08:00Z; summer (CEST, +2): 07:00Z.
    expect(iso(entryInForce(nightAndDay, at('2026-01-10T07:59:00Z'), zone)?.since)).toBe('2026-01-09T21:00:00.000Z');
    expect(iso(entryInForce(nightAndDay, at('2026-01-10T08:00:00Z'), zone)?.since)).toBe('2026-01-10T08:00:00.000Z');
    // 2026-03-29: clocks go 02:00 → 03:00. The night window began at 22:00 CET (21:00Z) on the 28th, the day window at 09:00 CEST (07:00Z).
    expect(iso(entryInForce(nightAndDay, at('2026-03-29T06:59:00Z'), zone)?.since)).toBe('2026-03-28T21:00:00.000Z');
    expect(iso(entryInForce(nightAndDay, at('2026-03-29T07:00:00Z'), zone)?.since)).toBe('2026-03-29T07:00:00.000Z');
    // 2026-10-25: clocks go 03:00 → 02:00. 22:00 CET on the 25th is 21:00Z.
    expect(iso(entryInForce(nightAndDay, at('2026-10-25T20:59:00Z'), zone)?.since)).toBe('2026-10-25T08:00:00.000Z');
    expect(iso(entryInForce(nightAndDay, at('2026-10-25T21:00:00Z'), zone)?.since)).toBe('2026-10-25T21:00:00.000Z');
  });

  it('starts a time a DST change skips later by the gap, and a repeated time at its first occurrence', () => {
    // 02:30 does not exist on 2026-03-29 in Berlin: 03:30 CEST (01:30Z).
    expect(iso(zonedInstant(2026, 3, 29, 2, 30, 'Europe/Berlin'))).toBe('2026-03-29T01:30:00.000Z');
    // 02:30 happens twice on 2026-10-25: first at CEST (00:30Z).
    expect(iso(zonedInstant(2026, 10, 25, 2, 30, 'Europe/Berlin'))).toBe('2026-10-25T00:30:00.000Z');
    const entries = [{ time: '02:30', replicas: 5 }, { time: '12:00', replicas: 1 }];
    expect(entryInForce(entries, at('2026-03-29T01:29:00Z'), 'Europe/Berlin')?.entry.time).toBe('12:00');
    expect(entryInForce(entries, at('2026-03-29T01:30:00Z'), 'Europe/Berlin')?.entry.time).toBe('02:30');
  });

  it('applies an entry only on its days; a weekday window ends with the last weekday entry', () => {
    const weekdays = [
      { time: '09:00', replicas: 10, days: 'Mon-Fri' },
      { time: '18:00', replicas: 2 },
    ];
    // Saturday 2026-01-10 10:00: the Friday-evening entry is still in force.
    expect(entryInForce(weekdays, at('2026-01-10T10:00:00Z'))).toMatchObject({ entry: { time: '18:00' }, since: at('2026-01-09T18:00:00Z') });
    // Monday 2026-01-12 10:00: the weekday entry.
    expect(entryInForce(weekdays, at('2026-01-12T10:00:00Z'))).toMatchObject({ entry: { time: '09:00' }, since: at('2026-01-12T09:00:00Z') });
    // Only a weekend entry: in force from Saturday 00:00 for the whole week after.
    expect(entryInForce([{ time: '00:00', replicas: 1, days: 'Sat' }], at('2026-01-15T10:00:00Z'))?.since).toBe(at('2026-01-10T00:00:00Z'));
  });

  it('parses day lists and ranges, including ranges over the weekend', () => {
    expect([...parseDays('Mon-Fri')].sort()).toEqual([1, 2, 3, 4, 5]);
    expect([...parseDays('Sat,Sun')].sort()).toEqual([0, 6]);
    expect([...parseDays('Fri-Mon')].sort()).toEqual([0, 1, 5, 6]);
    expect(() => parseDays('Monday')).toThrow(/unknown day/);
  });

  it('lets the last listed entry win when two start at the same time', () => {
    expect(entryInForce([{ time: '09:00', replicas: 3 }, { time: '09:00', replicas: 4 }], at('2026-01-10T10:00:00Z'))?.entry.replicas).toBe(4);
  });
});

describe('schedule: the next window start', () => {
  it('is the earliest start after now, over midnight, days and time zones', async () => {
    const { nextStart } = await import('@podscale/operator/schedule.ts');
    const entries = [{ time: '22:00', replicas: 2 }, { time: '09:00', replicas: 10, days: 'Mon-Fri' }];
    expect(iso(nextStart(entries, at('2026-01-09T23:00:00Z')))).toBe('2026-01-10T22:00:00.000Z'); // Saturday: no 09:00
    expect(iso(nextStart(entries, at('2026-01-11T23:00:00Z')))).toBe('2026-01-12T09:00:00.000Z'); // Monday 09:00
    expect(iso(nextStart(entries, at('2026-01-12T09:00:00Z')))).toBe('2026-01-12T22:00:00.000Z'); // strictly after
    expect(iso(nextStart(entries, at('2026-03-29T06:00:00Z'), 'Europe/Berlin'))).toBe('2026-03-29T20:00:00.000Z'); // Sunday, CEST
    expect(nextStart([], at('2026-01-12T09:00:00Z'))).toBeUndefined();
  });
});
