import { isValidZone } from './iana-zone.guard.ts';
import { DateTime } from 'luxon';

/** A parsed start or end: an instant, or a date without a time of day (at local midnight). */
export interface EventTime {
  time: DateTime;
  allDay: boolean;
}

export interface TimeOptions {
  /** IANA zone of values written without an offset. */
  zone: string;
  /** Extra luxon formats (`fromFormat`) tried after ISO 8601, RFC 2822 and HTTP dates. */
  formats?: readonly string[] | undefined;
  /** Locale of month and weekday names in `formats` (luxon locale, e.g. "da"). */
  locale?: string | undefined;
}

// Providers write "no date" as the smallest date their system knows (0001-01-01, 1900-01-01,
// 1970-01-01 from a zero epoch): no real listing is that old.
const EARLIEST_YEAR = 1971;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
// "+0000" and "-0400": ISO 8601 basic offsets, which some sites mix with extended date-times.
const BASIC_OFFSET = /([+-]\d{2})(\d{2})$/;

function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

function fromIso(text: string, zone: string): DateTime {
  const direct = DateTime.fromISO(text, { zone });
  if (direct.isValid || !text.includes('T')) return direct;
  return DateTime.fromISO(text.replace(BASIC_OFFSET, '$1:$2'), { zone });
}

/**
 * Reads a provider's date or date-time. An explicit offset or Z wins over `zone`; a value without
 * one is local to `zone`; a date alone ("2015-02-20") is all-day. Placeholder dates (before 1971)
 * are errors, never events on 1 January of year 1.
 */
export function parseEventTime(value: string, options: TimeOptions): EventTime | { error: string } {
  const text = value.trim();
  if (!isValidZone(options.zone)) return { error: `invalid timezone ${quote(options.zone)}` };
  const locale = options.locale ?? 'en';
  let time = fromIso(text, options.zone);
  if (!time.isValid) time = DateTime.fromRFC2822(text, { zone: options.zone });
  if (!time.isValid) time = DateTime.fromHTTP(text, { zone: options.zone });
  let allDay = DATE_ONLY.test(text);
  if (!time.isValid) {
    for (const format of options.formats ?? []) {
      const candidate = DateTime.fromFormat(text, format, { zone: options.zone, locale });
      if (candidate.isValid) {
        time = candidate;
        allDay = !/[Hhmsa]/.test(format.replace(/'[^']*'/g, ''));
        break;
      }
    }
  }
  if (!time.isValid) return { error: `unreadable date ${quote(text)}` };
  if (time.year < EARLIEST_YEAR) return { error: `placeholder date ${quote(text)}` };
  return { time, allDay };
}
