import { isValidZone } from '../time/iana-zone.guard.ts';
import { createHash } from 'node:crypto';
import {
  normalizeDedupeKey,
  type EventRecord,
  type EventStatus,
  type EventVenue,
} from '@marquee/event-model';
import { parseEventTime, type EventTime } from '../time/event-time.parser.ts';
import { readEventPrices, type PriceValue } from '../price/event-price.reader.ts';

/** An event as read from a payload, before validation: every value is text as the source wrote it. */
export interface RawEvent {
  id?: string | undefined;
  title?: string | undefined;
  /** A full date-time (or a date); wins over `startDate` + `startTime`. */
  start?: string | undefined;
  startDate?: string | undefined;
  startTime?: string | undefined;
  end?: string | undefined;
  endDate?: string | undefined;
  endTime?: string | undefined;
  /** The event's own IANA zone, when the source gives one per event. */
  timezone?: string | undefined;
  url?: string | undefined;
  venueName?: string | undefined;
  venueAddress?: string | undefined;
  venueCity?: string | undefined;
  venueCountry?: string | undefined;
  venueLat?: string | undefined;
  venueLon?: string | undefined;
  performers?: readonly string[] | undefined;
  status?: string | undefined;
  currency?: string | undefined;
  /** Every price the source lists (min of these is the min price, and so on). */
  minPrices?: readonly PriceValue[] | undefined;
  maxPrices?: readonly PriceValue[] | undefined;
  /** The source says the event is free: the price is known to be 0. */
  free?: boolean | undefined;
  /** The item's shared code (ISRC, EAN, ticketing id), as read at the configured dedupeKey. */
  dedupeKey?: string | undefined;
}

export interface NormalizeOptions {
  /** The provider's zone, for times without an offset when the event has no zone of its own. */
  timezone: string;
  dateFormats?: readonly string[] | undefined;
  locale?: string | undefined;
  /** Resolves relative URLs. */
  baseUrl?: string | undefined;
  /** Locale of price texts (`priceLocale`, else `locale`). */
  priceLocale?: string | undefined;
  /**
   * The configured dedupeKey, as messages name it (`dedupeKey path "isrc"`); an item without a
   * value there is kept, matched by title, venue and start, with a warning.
   */
  dedupeKey?: string | undefined;
}

/** An accepted event may carry warnings: a price or shared code it has no usable value for. */
export type NormalizeOutcome =
  { event: EventRecord; warnings?: string[] } | { key: string; reason: string };

/** Collapses whitespace; empty text is no value. */
function clean(value: string | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = value.replace(/\s+/g, ' ').trim();
  return text === '' ? undefined : text;
}

const STATUS_WORDS: readonly [RegExp, EventStatus][] = [
  [/cancel/i, 'cancelled'],
  [/postpone/i, 'postponed'],
  [
    /(scheduled|rescheduled|onsale|offsale|live|started|ended|completed|^ok$|movedonline)/i,
    'scheduled',
  ],
];

/** schema.org `EventCancelled`, Ticketmaster `cancelled`, Eventbrite `canceled`, Songkick `ok`... */
function normalizeStatus(value: string | undefined, title: string): EventStatus | null {
  const text = clean(value);
  if (text !== undefined) {
    for (const [pattern, status] of STATUS_WORDS) if (pattern.test(text)) return status;
  }
  // Some sites say it only in the title ("Board Meeting – CANCELLED").
  if (/\bcancell?ed\b/i.test(title)) return 'cancelled';
  if (/\bpostponed\b/i.test(title)) return 'postponed';
  return null;
}

function coordinate(value: string | undefined, limit: number): number | null {
  const text = clean(value);
  if (text === undefined) return null;
  const number = Number(text);
  return Number.isFinite(number) && Math.abs(number) <= limit && text !== '' ? number : null;
}

function absoluteUrl(value: string | undefined, base: string | undefined): string | null {
  const text = clean(value);
  if (text === undefined) return null;
  try {
    return new URL(text, base).toString();
  } catch {
    return null;
  }
}

function readTime(
  full: string | undefined,
  date: string | undefined,
  time: string | undefined,
  zone: string,
  options: NormalizeOptions,
): EventTime | { error: string } | undefined {
  const timeOptions = { zone, formats: options.dateFormats, locale: options.locale };
  const whole = clean(full);
  if (whole !== undefined) return parseEventTime(whole, timeOptions);
  const day = clean(date);
  if (day === undefined) return undefined;
  const clock = clean(time);
  return parseEventTime(clock === undefined ? day : `${day}T${clock}`, timeOptions);
}

/** A key for sources without ids: stable as long as title, start and venue are. */
function derivedKey(parts: readonly (string | undefined)[]): string {
  return `h:${createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22)}`;
}

/** Validates and normalizes one raw event; the reason of a reject names the bad field. */
export function normalizeEvent(raw: RawEvent, options: NormalizeOptions): NormalizeOutcome {
  const title = clean(raw.title);
  const url = absoluteUrl(raw.url, options.baseUrl);
  const key =
    clean(raw.id) ??
    url ??
    derivedKey([title, clean(raw.start) ?? clean(raw.startDate), clean(raw.venueName)]);
  if (title === undefined) return { key, reason: 'missing title' };

  const ownZone = clean(raw.timezone);
  const zone = ownZone !== undefined && isValidZone(ownZone) ? ownZone : options.timezone;
  const start = readTime(raw.start, raw.startDate, raw.startTime, zone, options);
  if (start === undefined) return { key, reason: 'missing start' };
  if ('error' in start) return { key, reason: `start: ${start.error}` };
  let end = readTime(raw.end, raw.endDate, raw.endTime, zone, options);
  // An unreadable or placeholder end is dropped, not the event: the start is what matters.
  if (end !== undefined && 'error' in end) end = undefined;
  let endsAt = end?.time ?? null;
  if (end?.allDay === true && endsAt !== null) {
    // A date-only end is inclusive: the event lasts until the end of that day.
    endsAt = endsAt.endOf('day');
  }
  if (endsAt !== null && endsAt.toMillis() < start.time.toMillis()) endsAt = null;

  const prices = readEventPrices(raw, options.priceLocale ?? options.locale);
  // The currency field wins over the one the price text names.
  const currency = clean(raw.currency)?.toUpperCase() ?? prices.currency;
  const identity = sharedCode(raw.dedupeKey, options.dedupeKey);
  const warnings = [...prices.warnings, ...identity.warnings];

  const venueParts = {
    name: clean(raw.venueName) ?? null,
    address: clean(raw.venueAddress) ?? null,
    city: clean(raw.venueCity) ?? null,
    country: clean(raw.venueCountry) ?? null,
    lat: coordinate(raw.venueLat, 90),
    lon: coordinate(raw.venueLon, 180),
  } satisfies EventVenue;
  const venue = Object.values(venueParts).some((part) => part !== null) ? venueParts : null;
  const performers = [
    ...new Set((raw.performers ?? []).map(clean).filter((name) => name !== undefined)),
  ];

  return {
    event: {
      externalKey: key,
      title,
      startsAt: start.time.toJSDate(),
      endsAt: endsAt?.toJSDate() ?? null,
      timezone: zone,
      minPrice: prices.minPrice,
      maxPrice: prices.maxPrice,
      currency: prices.minPrice === null && prices.maxPrice === null ? null : currency,
      // These kinds list what the source publishes; a listing is publicly on sale.
      online: true,
      allDay: start.allDay,
      url,
      venue,
      performers,
      status: normalizeStatus(raw.status, title),
      ...(identity.key !== undefined ? { dedupeKey: identity.key } : {}),
    },
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** The item's shared code, normalized; without one (or none configured) the fuzzy rule applies. */
function sharedCode(
  value: string | undefined,
  configured: string | undefined,
): { key?: string; warnings: string[] } {
  if (configured === undefined) return { warnings: [] };
  if (value === undefined || value.trim() === '') {
    return { warnings: [`${configured} absent: matched by title, venue and start`] };
  }
  const normalized = normalizeDedupeKey(value);
  if ('problem' in normalized) {
    return {
      warnings: [
        `${configured}: ${normalized.problem}, no code: matched by title, venue and start`,
      ],
    };
  }
  return { key: normalized.key, warnings: [] };
}
