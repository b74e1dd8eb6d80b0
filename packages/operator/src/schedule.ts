/**
 * The schedule: which entry is in force at an instant. An entry is in force from its `time` on
 * the days it names (every day without `days`) until the next entry's start, so the entry in force
 * is the one whose latest start at or before now is the latest; a window therefore runs over
 * midnight (22:00 → 09:00) and, with `days`, over a weekend. Wall-clock times are in `timeZone`
 * through Intl (the ICU data Node.js ships, so no tzdata is needed in the image); a time a DST
 * change skips starts that many minutes later (02:30 → 03:30 on the spring-forward day), and a time
 * that occurs twice starts at the first occurrence — Temporal's "compatible" disambiguation.
 */
import type { ScheduleEntry } from './policy.ts';

export interface EntryInForce {
  entry: ScheduleEntry;
  index: number;
  /** When this window started (ms since the epoch). */
  since: number;
}

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(instant: number, timeZone: string): Wall {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour! % 24, minute: parts.minute!, second: parts.second! };
}

/** The zone's offset from UTC at an instant, in ms (Berlin in summer: +7 200 000). */
function offsetAt(instant: number, timeZone: string): number {
  const w = wallClock(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The instant a wall-clock time on a local date happens in the zone (see the module comment for DST). */
export function zonedInstant(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const before = offsetAt(wall - 12 * 3_600_000, timeZone);
  const after = offsetAt(wall + 12 * 3_600_000, timeZone);
  const valid = [...new Set([before, after])].map((offset) => wall - offset).filter((t) => offsetAt(t, timeZone) === wall - t);
  if (valid.length > 0) return Math.min(...valid);
  return wall - before; // in a gap: shifted forward by its length
}

/** "Mon-Fri", "Sat,Sun", "Fri-Mon" → the days of the week (0 = Sunday) it names. */
export function parseDays(days: string): Set<number> {
  const set = new Set<number>();
  for (const part of days.split(',')) {
    const [from, to] = part.split('-').map((name) => DAY_NAMES.indexOf(name.trim()));
    if (from === undefined || from < 0 || (to !== undefined && to < 0)) throw new Error(`days: unknown day in ${JSON.stringify(part)}`);
    if (to === undefined) set.add(from);
    else for (let d = from; ; d = (d + 1) % 7) {
      set.add(d);
      if (d === to) break;
    }
  }
  return set;
}

/** The entry in force at `now` (ms), or undefined for an empty schedule. Entries at the same start: the last listed wins. */
export function entryInForce(schedule: readonly ScheduleEntry[] | undefined, now: number, timeZone = 'UTC'): EntryInForce | undefined {
  if (!schedule || schedule.length === 0) return undefined;
  const today = wallClock(now, timeZone);
  const days = schedule.map((entry) => (entry.days ? parseDays(entry.days) : undefined));
  let best: EntryInForce | undefined;
  // Eight local dates back is enough: every entry starts at least once a week.
  for (let back = 0; back <= 8; back += 1) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day - back));
    const weekday = date.getUTCDay();
    schedule.forEach((entry, index) => {
      if (days[index] && !days[index].has(weekday)) return;
      const [hour, minute] = entry.time.split(':').map(Number) as [number, number];
      const since = zonedInstant(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), hour, minute, timeZone);
      if (since > now) return;
      if (!best || since >= best.since) best = { entry, index, since };
    });
    if (best) break; // a start on an earlier local date is earlier
  }
  return best;
}

/** When the next window starts after `now` (ms), so a controller can reconcile right then; undefined for an empty schedule. */
export function nextStart(schedule: readonly ScheduleEntry[] | undefined, now: number, timeZone = 'UTC'): number | undefined {
  if (!schedule || schedule.length === 0) return undefined;
  const today = wallClock(now, timeZone);
  const days = schedule.map((entry) => (entry.days ? parseDays(entry.days) : undefined));
  let next: number | undefined;
  for (let ahead = 0; ahead <= 8 && next === undefined; ahead += 1) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + ahead));
    schedule.forEach((entry, index) => {
      if (days[index] && !days[index].has(date.getUTCDay())) return;
      const [hour, minute] = entry.time.split(':').map(Number) as [number, number];
      const start = zonedInstant(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), hour, minute, timeZone);
      if (start > now && (next === undefined || start < next)) next = start;
    });
  }
  return next;
}
