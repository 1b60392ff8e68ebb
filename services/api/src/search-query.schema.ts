import { z } from 'zod';
import type { SearchWindow } from '@marquee/db';
import { decodeChangeCursor } from './change-cursor.codec.ts';
import { decodeCursor } from './page-cursor.codec.ts';

/*
 * Query-string schemas for the search endpoints. The app parses the query string with the
 * "simple" parser, so every value is a string, or an array of strings when a parameter is repeated.
 * Custom issues carry `params.code`, the API error code to answer with (default invalid_parameter).
 */

const ONCE = 'must be given at most once';

const TIME_FORMATS =
  'must be a date-time (2021-02-01T00:00:00Z, 2021-02-01T00:00:00+02:00, or without an offset for UTC) ' +
  'or a date (2021-02-01)';

const instantText = z.union([z.iso.datetime({ offset: true, local: true }), z.iso.date()], {
  error: (issue) => (Array.isArray(issue.input) ? ONCE : TIME_FORMATS),
});

const HAS_OFFSET = /(?:Z|[+-]\d\d:\d\d)$/;

/** A plain date covers the whole UTC day: from its first millisecond, or up to its last. */
function toInstant(text: string, edge: 'start' | 'end'): Date {
  if (!text.includes('T')) {
    return new Date(`${text}T${edge === 'start' ? '00:00:00.000' : '23:59:59.999'}Z`);
  }
  return new Date(HAS_OFFSET.test(text) ? text : `${text}Z`);
}

// Postgres has no year 0: an earlier instant would fail in the query instead of as a 400.
const EARLIEST_INSTANT = new Date('0001-01-01T00:00:00Z');
const supportedInstant = z.date().min(EARLIEST_INSTANT, 'must not be before 0001-01-01T00:00:00Z');

/** One bound of a search window: an instant, or a plain date read as that day's start or end. */
const windowBound = (bound: 'start' | 'end', meta: { description: string; example: string }) =>
  instantText
    .transform((text) => toInstant(text, bound))
    .pipe(supportedInstant)
    .meta(meta);

export const startsAtParam = windowBound('start', {
  description:
    'Only events that start at or after this instant. A plain date means 00:00:00 UTC that day.',
  example: '2021-02-01T00:00:00Z',
});

export const endsAtParam = windowBound('end', {
  description:
    'Only events that end at or before this instant. A plain date means the end of that day, UTC.',
  example: '2021-02-28T23:59:59Z',
});

const window = {
  starts_at: startsAtParam.optional(),
  ends_at: endsAtParam.optional(),
};

/**
 * The window in the code's spelling. The API spells it `starts_at`/`ends_at` (fixed by the Fever
 * contract for `/search`, and kept by `/v1`); code spells it `startsAt`/`endsAt`.
 */
export function searchWindowOf(query: {
  starts_at?: Date | undefined;
  ends_at?: Date | undefined;
}): SearchWindow {
  return { startsAt: query.starts_at, endsAt: query.ends_at };
}

function orderedWindow(query: {
  starts_at?: Date | undefined;
  ends_at?: Date | undefined;
}): boolean {
  return !(query.starts_at && query.ends_at && query.starts_at > query.ends_at);
}

const rangeIssue = {
  message: 'must not be after ends_at',
  path: ['starts_at'],
  params: { code: 'invalid_range' },
};

/** `GET /search`: the Fever contract. Unknown parameters are ignored, as that contract's clients expect. */
export const searchQuerySchema = z.object(window).refine(orderedWindow, rangeIssue);

export const MAX_PAGE_SIZE = 1000;

const single = z.string({ error: ONCE });

const LIMIT_RANGE = `must be an integer from 1 to ${MAX_PAGE_SIZE}`;

export const limitParam = single
  .regex(/^\d+$/, LIMIT_RANGE)
  .transform(Number)
  .pipe(z.number().int().min(1, LIMIT_RANGE).max(MAX_PAGE_SIZE, LIMIT_RANGE))
  .default(100)
  .meta({
    description: `Page size: ${LIMIT_RANGE.slice('must be '.length)}; default 100.`,
    example: '100',
  });

/** A cursor this API returned, decoded; any other text is an `invalid_cursor` issue. */
function returnedCursor<T extends object>(decode: (text: string) => T | null) {
  return single.transform((text, context) => {
    const cursor = decode(text);
    if (cursor) return cursor;
    context.issues.push({
      code: 'custom',
      message: 'is not a cursor this API returned',
      input: text,
      params: { code: 'invalid_cursor' },
    });
    return z.NEVER;
  });
}

export const cursorParam = returnedCursor((text) => {
  const cursor = decodeCursor(text);
  return cursor && cursor.startsAt >= EARLIEST_INSTANT ? cursor : null;
}).meta({ description: 'The `next_cursor` of the previous page, as returned.' });

const PRICE = 'must be a non-negative decimal number (15, 15.5)';

const priceParam = single
  .regex(/^\d{1,10}(?:\.\d{1,2})?$/, PRICE)
  .transform(Number)
  .pipe(z.number().min(0));

// C0 and C1 controls, DEL included: PostgreSQL refuses NUL in text, and none belongs in a filter.
const CONTROL_CHARACTERS = /\p{Cc}/u;

const textParam = (description: string) =>
  single
    .min(1)
    .max(200)
    .refine((text) => !CONTROL_CHARACTERS.test(text), 'must not contain control characters')
    .optional()
    .meta({ description });

const EVENT_STATUSES = ['scheduled', 'cancelled', 'postponed'] as const;

/** `GET /v1/events/search`: strict, so a misspelt filter fails instead of widening the result. */
export const eventsSearchQuerySchema = z
  .strictObject({
    ...window,
    overlap: z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .transform((text) => text === 'true')
      .optional()
      .meta({
        description:
          'false (default): events inside the window. true: events whose span meets the window.',
      }),
    provider: textParam('Provider name.'),
    q: textParam('Case-insensitive substring of the title or the venue name.'),
    city: textParam('Venue city, case-insensitive.'),
    country: textParam('Venue country, case-insensitive.'),
    performer: textParam('Case-insensitive substring of one of the performers’ names.'),
    status: z
      .enum(EVENT_STATUSES, { error: `must be one of ${EVENT_STATUSES.join(', ')}` })
      .optional()
      .meta({ description: 'Event status as the provider reports it.' }),
    min_price: priceParam.optional().meta({
      description: 'Only events with a ticket at or above this price (their max_price).',
      example: '10',
    }),
    max_price: priceParam.optional().meta({
      description: 'Only events with a ticket at or below this price (their min_price).',
      example: '50',
    }),
    limit: limitParam,
    cursor: cursorParam.optional(),
  })
  .refine(orderedWindow, rangeIssue)
  .refine(
    (query) =>
      query.min_price === undefined ||
      query.max_price === undefined ||
      query.min_price <= query.max_price,
    {
      message: 'must not be above max_price',
      path: ['min_price'],
      params: { code: 'invalid_range' },
    },
  );

export type SearchQuery = z.output<typeof searchQuerySchema>;
export type EventsSearchQuery = z.output<typeof eventsSearchQuerySchema>;

/** `GET /v1/changes`: strict, as every `/v1` query. */
export const changesQuerySchema = z.strictObject({
  after: returnedCursor(decodeChangeCursor).optional().meta({
    description:
      'The `next_cursor` of the previous page; without it the feed starts at its oldest kept change.',
  }),
  limit: limitParam,
});
