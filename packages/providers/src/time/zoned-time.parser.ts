import { Info, type Zone } from 'luxon';

// A fast path for the one time format feeds write almost always: "YYYY-MM-DDTHH:MM:SS" without an
// offset, read in an IANA zone. Profiling a 100k-event Fever ingest showed luxon's
// `DateTime.fromISO(value, { zone })` spending most of its time in `IANAZone.offset`
// (Intl.DateTimeFormat.formatToParts for every call). Offsets only change at transitions, so
// they are cached per zone and UTC day; the conversion itself is luxon's own algorithm
// (`fixOffset`), so results are identical, including for skipped and repeated local times.
// Anything else (other formats, out-of-range fields) returns undefined: the caller uses luxon,
// which also gives the exact error message.

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Cache bound per zone: ~270 years of days; cleared (not evicted) past it. */
const MAX_CACHED_DAYS = 100_000;

class OffsetCache {
  private readonly days = new Map<number, number>();
  private readonly hours = new Map<number, number>();

  constructor(private readonly zone: Zone) {}

  /** The zone's offset in minutes at `ts`, exactly as `zone.offset(ts)` gives it. */
  at(ts: number): number {
    const day = Math.floor(ts / DAY_MS);
    let offset = this.days.get(day);
    if (offset === undefined) {
      if (this.days.size > MAX_CACHED_DAYS) this.days.clear();
      // Equal offsets at both ends of a day: no transition within it (zones never change twice
      // in a day). A day with a transition is resolved per hour, and an hour with one exactly.
      const start = this.zone.offset(day * DAY_MS);
      offset = start === this.zone.offset(day * DAY_MS + DAY_MS - 1000) ? start : NaN;
      this.days.set(day, offset);
    }
    if (!Number.isNaN(offset)) return offset;
    const hour = Math.floor(ts / HOUR_MS);
    let hourly = this.hours.get(hour);
    if (hourly === undefined) {
      const start = this.zone.offset(hour * HOUR_MS);
      hourly = start === this.zone.offset(hour * HOUR_MS + HOUR_MS - 1000) ? start : NaN;
      this.hours.set(hour, hourly);
    }
    return Number.isNaN(hourly) ? this.zone.offset(ts) : hourly;
  }
}

const caches = new Map<string, OffsetCache | null>();

function offsetCache(zoneName: string): OffsetCache | null {
  let cache = caches.get(zoneName);
  if (cache === undefined) {
    const zone = Info.normalizeZone(zoneName);
    cache = zone.isValid ? new OffsetCache(zone) : null;
    caches.set(zoneName, cache);
  }
  return cache;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in `month` (1-12) of `year`, Gregorian (as Date.UTC counts them). */
function daysInMonth(year: number, month: number): number {
  if (month !== 2) return MONTH_DAYS[month - 1] ?? 0;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return leap ? 29 : 28;
}

/** luxon's `fixOffset`: the UTC instant of local time `localTs`, starting from offset guess `o`. */
function fixOffset(localTs: number, o: number, offsets: OffsetCache): number {
  let utcGuess = localTs - o * 60_000;
  const o2 = offsets.at(utcGuess);
  if (o === o2) return utcGuess;
  utcGuess -= (o2 - o) * 60_000;
  const o3 = offsets.at(utcGuess);
  if (o2 === o3) return utcGuess;
  // A skipped local time (DST gap): luxon moves it forward by the gap.
  return localTs - Math.min(o2, o3) * 60_000;
}

/**
 * Epoch milliseconds of `value` ("YYYY-MM-DDTHH:MM:SS", no offset) in `zoneName`, equal to
 * `DateTime.fromISO(value, { zone: zoneName }).toMillis()`; undefined when the fast path does not
 * apply (another format, a field out of range, an unknown zone).
 */
export function zonedLocalMillis(value: string, zoneName: string): number | undefined {
  const match = LOCAL.exec(value);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  const second = Number(match[6]);
  if (
    year < 1000 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return undefined;
  }
  const offsets = offsetCache(zoneName);
  if (!offsets) return undefined;
  // luxon starts from the zone's offset now, which decides the result for repeated local times.
  return fixOffset(
    Date.UTC(year, month - 1, day, hour, minute, second),
    offsets.at(Date.now()),
    offsets,
  );
}
