import { createHash } from 'node:crypto';
import type { EventRecord } from '@marquee/event-model';
import { Prisma } from './generated/prisma/client.ts';
import { normalizeForMatch, venueForMatch } from './venue-name.matcher.ts';

/** Canonical keys of events with a shared code start with this; match keys never contain ":". */
const DEDUPE_KEY_PREFIX = 'dedupe:';

function localDate(instant: Date, timezone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone }).format(instant);
}

/**
 * The fuzzy key of the real event behind a provider's event: venue + start + title, normalized,
 * so "Dagger with Spokane Tech 🚀" at "IntelliTect" 2024-03-20T01:00Z from a group page and from
 * an event page are one. The venue drops a trailing city (venueForMatch); the start is the
 * instant, or the local date for all-day events. Without a venue name there is no key: titles
 * alone ("Monthly Meetup") are too weak to merge on. A base64url hash: it never contains ":".
 */
export function matchKey(event: EventRecord): string | null {
  const venue = event.venue?.name;
  if (venue === null || venue === undefined) return null;
  const venueKey = venueForMatch(venue, event.venue?.city);
  const titleKey = normalizeForMatch(event.title);
  if (venueKey === '' || titleKey === '') return null;
  const start =
    event.allDay === true
      ? `date:${localDate(event.startsAt, event.timezone)}`
      : event.startsAt.toISOString();
  return createHash('sha256')
    .update(JSON.stringify([venueKey, start, titleKey]))
    .digest('base64url')
    .slice(0, 32);
}

/**
 * The key rows of one real event share: `dedupe:<code>` for an event with a shared code (its
 * provider's `dedupeKey`), so equal codes of any providers meet whatever their titles or venues
 * say; else its match key.
 */
export function canonicalKey(event: EventRecord): string | null {
  return eventKeys(event).canonical;
}

/** Both keys of an event, its match key hashed once. */
export function eventKeys(event: EventRecord): { canonical: string | null; match: string | null } {
  const match = matchKey(event);
  const canonical = event.dedupeKey != null ? `${DEDUPE_KEY_PREFIX}${event.dedupeKey}` : match;
  return { canonical, match };
}

/**
 * Keeps one row per canonical event (`events e`), the rules of docs/providers.md
 * ("Cross-provider de-duplication"):
 * - among rows of one canonical key, the searchable row seen first, ties broken by the smaller id;
 * - a row without a shared code whose match key equals that of a searchable row with one is that
 *   coded event (the code adds merges; it never takes the fuzzy rule's away). Two rows with
 *   different codes stay two events.
 * Rows without a key are always their own canonical event.
 */
export const CANONICAL_ONLY = Prisma.sql`(e.canonical_key IS NULL OR NOT EXISTS (
    SELECT 1 FROM events c
    WHERE c.canonical_key = e.canonical_key AND c.ever_online
      AND (c.first_seen_at, c.id) < (e.first_seen_at, e.id)))
  AND (e.match_key IS NULL OR e.canonical_key LIKE 'dedupe:%' OR NOT EXISTS (
    SELECT 1 FROM events k
    WHERE k.match_key = e.match_key AND k.canonical_key LIKE 'dedupe:%' AND k.ever_online))`;
