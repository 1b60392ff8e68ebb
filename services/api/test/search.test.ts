import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Provider } from '@marquee/db';
import { eventId } from '@marquee/event-model';
import { eventually } from '@marquee/testing';
import { createProvider, json, probes, record, startApi, type ApiFixture } from './api.fixture.ts';

interface FeverEvent {
  id: string;
  title: string;
  start_date: string;
  start_time: string | null;
  end_date: string | null;
  end_time: string | null;
  min_price: number | null;
  max_price: number | null;
}

let api: ApiFixture;
let madrid: Provider;

const idOf = (key: string) => eventId('madrid', key);

async function search(query: string): Promise<{ response: Response; events: FeverEvent[] }> {
  const response = await api.get(`/search${query}`);
  expect(response.status).toBe(200);
  const body = await json<{ events: FeverEvent[] }>(response);
  expect(body.error).toBeNull();
  return { response, events: body.data!.events };
}

const titles = async (query: string) => (await search(query)).events.map((event) => event.title);

beforeAll(async () => {
  api = await startApi('search');
  madrid = await createProvider(api, 'madrid', 'Europe/Madrid');
  const seen = new Date();
  await api.events.upsertMany(
    madrid,
    [
      // February: contract shape and ordering (inserted out of order on purpose).
      record({
        externalKey: 'feb/night',
        title: 'Madrid night',
        timezone: 'Europe/Madrid',
        startsAt: new Date('2021-02-10T20:00:00Z'),
        endsAt: new Date('2021-02-10T23:30:00Z'),
        minPrice: '15.00',
        maxPrice: '30.50',
      }),
      record({
        externalKey: 'feb/free',
        title: 'Free talk',
        minPrice: null,
        maxPrice: null,
        startsAt: new Date('2021-02-05T10:00:00Z'),
        endsAt: new Date('2021-02-05T11:00:00Z'),
      }),
      record({
        externalKey: 'feb/private',
        title: 'Never online',
        online: false,
        startsAt: new Date('2021-02-07T10:00:00Z'),
        endsAt: new Date('2021-02-07T11:00:00Z'),
      }),
      record({
        externalKey: 'feb/offline',
        title: 'Went offline',
        startsAt: new Date('2021-02-20T10:00:00Z'),
        endsAt: new Date('2021-02-20T12:00:00Z'),
      }),
      record({
        externalKey: 'feb/open',
        title: 'Open end',
        startsAt: new Date('2021-02-25T18:00:00Z'),
        endsAt: null,
      }),
      // March: bounds.
      record({
        externalKey: 'mar/exact',
        title: 'Exact',
        startsAt: new Date('2021-03-01T10:00:00Z'),
        endsAt: new Date('2021-03-01T12:00:00Z'),
      }),
      // April: date-only bounds.
      record({
        externalKey: 'apr/day',
        title: 'Whole day',
        startsAt: new Date('2021-04-10T00:00:00Z'),
        endsAt: new Date('2021-04-10T23:59:59Z'),
      }),
      record({
        externalKey: 'apr/overnight',
        title: 'From the day before',
        startsAt: new Date('2021-04-09T23:59:59Z'),
        endsAt: new Date('2021-04-10T01:00:00Z'),
      }),
      // May: cache.
      record({
        externalKey: 'may/first',
        title: 'Cached',
        startsAt: new Date('2021-05-10T10:00:00Z'),
        endsAt: new Date('2021-05-10T11:00:00Z'),
      }),
    ],
    seen,
  );
  // Seen online once, then offline: stays searchable with its latest values.
  await api.events.upsertMany(
    madrid,
    [
      record({
        externalKey: 'feb/offline',
        title: 'Went offline',
        online: false,
        startsAt: new Date('2021-02-20T10:00:00Z'),
        endsAt: new Date('2021-02-20T12:00:00Z'),
      }),
    ],
    seen,
  );
});

afterAll(async () => {
  await api.close();
});

describe('GET /search (Fever contract)', () => {
  it('answers the envelope with exactly the contract fields, local dates and times, ordered by start', async () => {
    const response = await api.get(
      '/search?starts_at=2021-02-01T00:00:00Z&ends_at=2021-02-28T23:59:59Z',
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(await response.json()).toEqual({
      data: {
        events: [
          {
            id: idOf('feb/free'),
            title: 'Free talk',
            start_date: '2021-02-05',
            start_time: '10:00:00',
            end_date: '2021-02-05',
            end_time: '11:00:00',
            min_price: null,
            max_price: null,
          },
          {
            // 20:00Z is 21:00 in Madrid in winter; the end crosses local midnight.
            id: idOf('feb/night'),
            title: 'Madrid night',
            start_date: '2021-02-10',
            start_time: '21:00:00',
            end_date: '2021-02-11',
            end_time: '00:30:00',
            min_price: 15,
            max_price: 30.5,
          },
          {
            id: idOf('feb/offline'),
            title: 'Went offline',
            start_date: '2021-02-20',
            start_time: '10:00:00',
            end_date: '2021-02-20',
            end_time: '12:00:00',
            min_price: 15,
            max_price: 30,
          },
          {
            id: idOf('feb/open'),
            title: 'Open end',
            start_date: '2021-02-25',
            start_time: '18:00:00',
            end_date: null,
            end_time: null,
            min_price: 15,
            max_price: 30,
          },
        ],
      },
      error: null,
    });
  });

  it('without parameters returns every event ever online, and never one that was not', async () => {
    const all = await titles('');
    expect(all).toHaveLength(8);
    expect(all).not.toContain('Never online');
  });

  it('includes an event starting exactly at starts_at and ending exactly at ends_at; one second less excludes it', async () => {
    expect(await titles('?starts_at=2021-03-01T10:00:00Z&ends_at=2021-03-01T12:00:00Z')).toEqual([
      'Exact',
    ]);
    expect(await titles('?starts_at=2021-03-01T10:00:01Z&ends_at=2021-03-01T12:00:00Z')).toEqual(
      [],
    );
    expect(await titles('?starts_at=2021-03-01T10:00:00Z&ends_at=2021-03-01T11:59:59Z')).toEqual(
      [],
    );
  });

  it('accepts offsets, offset-less date-times as UTC, and either bound alone', async () => {
    expect(
      await titles('?starts_at=2021-03-01T11:00:00%2B01:00&ends_at=2021-03-01T13:00:00%2B01:00'),
    ).toEqual(['Exact']);
    expect(await titles('?starts_at=2021-03-01T10:00:00&ends_at=2021-03-01T12:00:00')).toEqual([
      'Exact',
    ]);
    expect(await titles('?starts_at=2021-03-01T10:00:01&ends_at=2021-03-01T12:00:00')).toEqual([]);
    expect(
      await titles('?starts_at=2021-03-01T10:00:00.000Z&ends_at=2021-04-01T00:00:00Z'),
    ).toEqual(['Exact']);
    expect(await titles('?ends_at=2021-02-06T00:00:00Z')).toEqual(['Free talk']);
    expect(await titles('?starts_at=2021-05-01T00:00:00Z')).toEqual(['Cached']);
  });

  it('reads a plain date as the whole UTC day on both bounds', async () => {
    expect(await titles('?starts_at=2021-04-10&ends_at=2021-04-10')).toEqual(['Whole day']);
    expect(await titles('?starts_at=2021-04-09&ends_at=2021-04-10')).toEqual([
      'From the day before',
      'Whole day',
    ]);
    expect(await titles('?starts_at=2021-04-09&ends_at=2021-04-09')).toEqual([]);
    expect(await titles('?starts_at=2021-04-11')).toEqual(['Cached']);
  });

  it('accepts the extremes of the calendar', async () => {
    expect(await titles('?starts_at=0001-01-01&ends_at=9999-12-31T23:59:59-23:59')).toHaveLength(8);
  });

  it('ignores parameters it does not know', async () => {
    expect(await titles('?starts_at=2021-03-01&ends_at=2021-03-01&page=2&start_at=x')).toEqual([
      'Exact',
    ]);
  });

  it.each([
    ['?starts_at=2021-13-01', 'invalid_parameter', 'starts_at: must be a date-time'],
    ['?starts_at=2021-02-30T00:00:00Z', 'invalid_parameter', 'starts_at: must be a date-time'],
    ['?starts_at=2021-02-29', 'invalid_parameter', 'starts_at: must be a date-time'],
    ['?ends_at=abc', 'invalid_parameter', 'ends_at: must be a date-time'],
    ['?ends_at=', 'invalid_parameter', 'ends_at: must be a date-time'],
    ['?starts_at=2021-02-01T25:00:00Z', 'invalid_parameter', 'starts_at: must be a date-time'],
    ['?starts_at=1612137600', 'invalid_parameter', 'starts_at: must be a date-time'],
    // Valid RFC 3339, but before any year Postgres can store.
    ['?starts_at=0000-06-01T00:00:00Z', 'invalid_parameter', 'starts_at: must not be before 0001'],
    [
      '?ends_at=0001-01-01T00:30:00%2B01:00',
      'invalid_parameter',
      'ends_at: must not be before 0001',
    ],
    ['?starts_at=a&starts_at=b', 'invalid_parameter', 'starts_at: must be given at most once'],
    [
      '?starts_at=2021-02-01&starts_at=2021-02-01',
      'invalid_parameter',
      'starts_at: must be given at most once',
    ],
    [
      '?starts_at=2021-03-01&ends_at=2021-02-01',
      'invalid_range',
      'starts_at: must not be after ends_at',
    ],
    [
      '?starts_at=2021-03-01T10:00:01Z&ends_at=2021-03-01T10:00:00Z',
      'invalid_range',
      'starts_at: must not be after ends_at',
    ],
  ])('GET /search%s → 400 %s', async (query, code, message) => {
    const response = await api.get(`/search${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = await json(response);
    expect(body.data).toBeNull();
    expect(body.error?.code).toBe(code);
    expect(body.error?.message.startsWith(message)).toBe(true);
  });

  it('caches the body: miss, then hit; after bumpVersion() a miss with fresh data', async () => {
    const query = '/search?starts_at=2021-05-01&ends_at=2021-05-31';
    const first = await api.get(query);
    expect(first.headers.get('x-cache')).toBe('miss');
    const firstBody = await first.text();
    // Another spelling of the same instants shares the entry.
    const second = await api.get(
      '/search?starts_at=2021-05-01T02:00:00%2B02:00&ends_at=2021-05-31T23:59:59.999Z',
    );
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(second.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await second.text()).toBe(firstBody);

    await api.events.upsertMany(
      madrid,
      [
        record({
          externalKey: 'may/second',
          title: 'Added later',
          startsAt: new Date('2021-05-20T10:00:00Z'),
          endsAt: new Date('2021-05-20T11:00:00Z'),
        }),
      ],
      new Date(),
    );
    const stale = await api.get(query);
    expect(stale.headers.get('x-cache')).toBe('hit');
    expect(await stale.text()).toBe(firstBody);

    await api.cache.bumpVersion();
    const fresh = await api.get(query);
    expect(fresh.headers.get('x-cache')).toBe('miss');
    const body = await json<{ events: FeverEvent[] }>(fresh);
    expect(body.data?.events.map((event) => event.title)).toEqual(['Cached', 'Added later']);
    expect((await api.get(query)).headers.get('x-cache')).toBe('hit');
  });
});

describe('the rest of the surface', () => {
  it('answers unknown routes with the 404 envelope, other methods with 405 and Allow', async () => {
    const unknown = await api.get('/nope');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await json(unknown)).toEqual({
      data: null,
      error: { code: 'not_found', message: expect.any(String) },
    });
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const response = await fetch(`${api.url}/search`, { method });
      expect({ method, status: response.status }).toEqual({ method, status: 405 });
      expect(response.headers.get('allow')).toBe('GET, HEAD');
      expect(await json(response)).toEqual({
        data: null,
        error: { code: 'method_not_allowed', message: `${method} is not allowed; use GET, HEAD` },
      });
    }
  });

  it('reports liveness and readiness', async () => {
    expect(await probes(api)).toEqual({
      health: { status: 200, body: { status: 'ok' } },
      ready: { status: 200, body: { status: 'ready', checks: { database: 'up', redis: 'up' } } },
    });
  });

  it('gives every response a request id, echoes a sane incoming one, and logs one http line per request', async () => {
    const generated = await api.get('/healthz');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const notFound = await api.get('/nope');
    expect(notFound.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const echoed = await api.get('/search?starts_at=2021-03-01&ends_at=2021-03-01', {
      'X-Request-Id': 'trace-42.a:b',
    });
    expect(echoed.headers.get('x-request-id')).toBe('trace-42.a:b');
    await echoed.arrayBuffer();
    const insane = await api.get('/healthz', { 'X-Request-Id': 'x'.repeat(200) });
    expect(insane.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    // The log line is written when the response closes, which may trail the client by a tick.
    const lines = await eventually(
      () => {
        const logged = api.logs().filter((line) => line.requestId === 'trace-42.a:b');
        return Promise.resolve(logged.length > 0 ? logged : undefined);
      },
      5_000,
      'the request log line',
    );
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'http',
        service: 'api',
        method: 'GET',
        path: '/search',
        status: 200,
        ms: expect.any(Number),
      }),
    ]);
  });
});
