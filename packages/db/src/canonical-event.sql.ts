import { createHash } from 'node:crypto';
import type { EventRecord } from '@marquee/event-model';
import { Prisma } from './generated/prisma/client.ts';

/** Lowercase letters and digits of any script, accents and punctuation dropped, "&" as "and". */
export function normalizeForMatch(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function localDate(instant: Date, timezone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone }).format(instant);
}

/**
 * The key of the real event behind a provider's event: venue + start + title, normalized, so
 * "Dagger with Spokane Tech 🚀" at "IntelliTect" 2024-03-20T01:00Z from a group page and from an
 * event page are one. The start is the instant, or the local date for all-day events. Without a
 * venue name there is no key: titles alone ("Monthly Meetup") are too weak to merge on.
 */
export function canonicalKey(event: EventRecord): string | null {
  const venue = event.venue?.name;
  if (venue === null || venue === undefined) return null;
  const venueKey = normalizeForMatch(venue);
  const titleKey = normalizeForMatch(event.title);
  if (venueKey === '' || titleKey === '') return null;
  const start =
    event.allDay === true
      ? `date:${localDate(event.startAt, event.timezone)}`
      : event.startAt.toISOString();
  return createHash('sha256')
    .update(JSON.stringify([venueKey, start, titleKey]))
    .digest('base64url')
    .slice(0, 32);
}

/**
 * Keeps one row per canonical event (`events e`): the searchable row of the key seen first, ties
 * broken by the smaller id. A provider's later row for the same event is listed as a source of
 * that one, never shown twice. Rows without a key are always their own canonical event.
 */
export const CANONICAL_ONLY = Prisma.sql`(e.canonical_key IS NULL OR NOT EXISTS (
  SELECT 1 FROM events c
  WHERE c.canonical_key = e.canonical_key AND c.ever_online
    AND (c.first_seen_at, c.id) < (e.first_seen_at, e.id)))`;
