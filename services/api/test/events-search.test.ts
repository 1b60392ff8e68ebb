import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventId, type EventRecord } from '@marquee/event-model';
import { encodeCursor } from '../src/page-cursor.codec.ts';
import { createProvider, json, record, startApi, type ApiFixture } from './api.fixture.ts';

interface V1Event {
  id: string;
  provider: string;
  title: string;
  starts_at: string;
  [field: string]: unknown;
}

interface V1Page {
  events: V1Event[];
  next_cursor: string | null;
}

let api: ApiFixture;
/** Every seeded event id in (start, id) order, the order pages must follow. */
let expected: { id: string; provider: string; startsAt: Date }[];

const BASE = Date.parse('2022-01-01T00:00:00Z');
const COUNT = 250;

beforeAll(async () => {
  api = await startApi('events');
  const alpha = await createProvider(api, 'alpha');
  const beta = await createProvider(api, 'beta', 'Europe/Madrid');
  const byProvider: Record<'alpha' | 'beta', EventRecord[]> = { alpha: [], beta: [] };
  expected = [];
  for (let i = 0; i < COUNT; i += 1) {
    const provider = i % 2 === 0 ? 'alpha' : 'beta';
    // Three events per start, so page boundaries fall between equal starts and the id decides.
    const startsAt = new Date(BASE + Math.floor(i / 3) * 3_600_000);
    const externalKey = `e/${i}`;
    byProvider[provider].push(
      record({
        externalKey,
        title: `Event ${i}`,
        startsAt,
        endsAt: new Date(startsAt.getTime() + 1_800_000),
        timezone: provider === 'beta' ? 'Europe/Madrid' : 'UTC',
      }),
    );
    expected.push({ id: eventId(provider, externalKey), provider, startsAt });
  }
  expected.sort(
    (a, b) =>
      a.startsAt.getTime() - b.startsAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  await api.events.upsertMany(alpha, byProvider.alpha, new Date());
  await api.events.upsertMany(beta, byProvider.beta, new Date());
  await api.events.upsertMany(
    beta,
    [
      record({
        externalKey: 'hidden',
        online: false,
        startsAt: new Date(BASE),
        endsAt: new Date(BASE + 1000),
      }),
    ],
    new Date(),
  );
});

afterAll(async () => {
  await api.close();
});

async function page(query: string): Promise<{ response: Response; page: V1Page }> {
  const response = await api.get(`/v1/events/search${query}`);
  const body = await json<V1Page>(response);
  expect({ status: response.status, error: body.error }).toEqual({ status: 200, error: null });
  return { response, page: body.data! };
}

async function walk(query: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const separator = query ? '&' : '?';
    const result: { page: V1Page } = await page(
      cursor ? `${query}${separator}cursor=${cursor}` : query,
    );
    ids.push(...result.page.events.map((event) => event.id));
    cursor = result.page.next_cursor;
    pages += 1;
    expect(pages).toBeLessThanOrEqual(COUNT);
  } while (cursor);
  return { ids, pages };
}

describe('GET /v1/events/search', () => {
  it('returns the /search fields plus provider, instants, timezone, currency and details', async () => {
    const { page: first } = await page('?provider=beta&limit=1');
    const event = expected.find((candidate) => candidate.provider === 'beta')!;
    expect(first.events).toEqual([
      {
        id: event.id,
        provider: 'beta',
        title: 'Event 1',
        start_date: '2022-01-01',
        start_time: '01:00:00',
        end_date: '2022-01-01',
        end_time: '01:30:00',
        starts_at: '2022-01-01T00:00:00.000Z',
        ends_at: '2022-01-01T00:30:00.000Z',
        timezone: 'Europe/Madrid',
        min_price: 15,
        max_price: 30,
        currency: 'EUR',
        // Details the Fever kind does not carry.
        venue_name: null,
        city: null,
        country: null,
        status: null,
        url: null,
        performers: [],
      },
    ]);
    expect(first.next_cursor).toEqual(expect.any(String));
  });

  it.each([7, 10, 1000])('walks every page of %i without duplicates or gaps', async (limit) => {
    const { ids, pages } = await walk(`?limit=${limit}`);
    expect(ids).toEqual(expected.map((event) => event.id));
    expect(pages).toBe(Math.max(1, Math.ceil(COUNT / limit)));
  });

  it('defaults to pages of 100', async () => {
    const { page: first } = await page('');
    expect(first.events).toHaveLength(100);
    expect(first.next_cursor).not.toBeNull();
  });

  it('filters by provider and by window, and pages within the filter', async () => {
    const { ids } = await walk('?provider=beta&limit=9');
    expect(ids).toEqual(
      expected.filter((event) => event.provider === 'beta').map((event) => event.id),
    );
    const { page: none } = await page('?provider=nobody');
    expect(none).toEqual({ events: [], next_cursor: null });

    // Starts 01:00 and 02:00 (three each); ends at most 02:30.
    const { ids: windowed } = await walk(
      '?starts_at=2022-01-01T01:00:00Z&ends_at=2022-01-01T02:30:00Z&limit=4',
    );
    expect(windowed).toEqual(expected.slice(3, 9).map((event) => event.id));
  });

  it('caches each page under all of its parameters', async () => {
    const query = '/v1/events/search?limit=5&provider=alpha';
    expect((await api.get(query)).headers.get('x-cache')).toBe('miss');
    expect((await api.get(query)).headers.get('x-cache')).toBe('hit');
    expect((await api.get('/v1/events/search?limit=6&provider=alpha')).headers.get('x-cache')).toBe(
      'miss',
    );
  });

  const real = encodeCursor({
    startsAt: new Date(BASE),
    id: '00000000-0000-4000-8000-000000000000',
  });
  it.each([
    ['a cursor it never issued', '?cursor=garbage', 'invalid_cursor', 'cursor: '],
    ['a truncated cursor', `?cursor=${real.slice(0, -2)}`, 'invalid_cursor', 'cursor: '],
    ['a cursor with bytes appended', `?cursor=${real}AA`, 'invalid_cursor', 'cursor: '],
    [
      'a cursor with a bad id',
      `?cursor=${Buffer.from('2022-01-01T00:00:00.000Z not-a-uuid').toString('base64url')}`,
      'invalid_cursor',
      'cursor: ',
    ],
    [
      'a cursor with a bad instant',
      `?cursor=${Buffer.from('2022-02-30T00:00:00.000Z 00000000-0000-4000-8000-000000000000').toString('base64url')}`,
      'invalid_cursor',
      'cursor: ',
    ],
    [
      'a cursor before year 1',
      `?cursor=${encodeCursor({ startsAt: new Date('0000-06-01T00:00:00Z'), id: '00000000-0000-4000-8000-000000000000' })}`,
      'invalid_cursor',
      'cursor: ',
    ],
    [
      'a repeated cursor',
      `?cursor=${real}&cursor=${real}`,
      'invalid_parameter',
      'cursor: must be given at most once',
    ],
    [
      'an unknown parameter',
      '?start_at=2022-01-01',
      'invalid_parameter',
      'start_at: unknown parameter',
    ],
    ['limit=0', '?limit=0', 'invalid_parameter', 'limit: must be an integer from 1 to 1000'],
    ['limit=1001', '?limit=1001', 'invalid_parameter', 'limit: must be an integer from 1 to 1000'],
    ['limit=1.5', '?limit=1.5', 'invalid_parameter', 'limit: must be an integer from 1 to 1000'],
    ['limit=-1', '?limit=-1', 'invalid_parameter', 'limit: must be an integer from 1 to 1000'],
    ['limit=ten', '?limit=ten', 'invalid_parameter', 'limit: must be an integer from 1 to 1000'],
    ['an empty provider', '?provider=', 'invalid_parameter', 'provider: '],
    [
      'an impossible date',
      '?starts_at=2022-13-01',
      'invalid_parameter',
      'starts_at: must be a date-time',
    ],
    [
      'a reversed window',
      '?starts_at=2022-02-01&ends_at=2022-01-01',
      'invalid_range',
      'starts_at: must not be after ends_at',
    ],
  ])('answers %s with 400', async (_label, query, code, message) => {
    const response = await api.get(`/v1/events/search${query}`);
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body.data).toBeNull();
    expect(body.error?.code).toBe(code);
    expect(body.error?.message.startsWith(message)).toBe(true);
  });

  it('accepts the limit bounds', async () => {
    expect((await page('?limit=1')).page.events).toHaveLength(1);
    const { page: all } = await page('?limit=1000');
    expect(all.events).toHaveLength(COUNT);
    expect(all.next_cursor).toBeNull();
  });
});
