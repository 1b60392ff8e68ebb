import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SyncRunRepository } from '@marquee/db';
import { eventId } from '@marquee/event-model';
import { readBreakerStatuses, writeBreakerStatus } from '@marquee/provider-status';
import { createProvider, json, record, startApi, type ApiFixture } from './api.fixture.ts';

interface V1Event {
  id: string;
  title: string;
  provider: string;
  city: string | null;
}

let api: ApiFixture;

const venue = (name: string, city: string, country: string) => ({
  name,
  address: null,
  city,
  country,
  lat: null,
  lon: null,
});

beforeAll(async () => {
  api = await startApi('events-filters', {
    // The reader the CLI and dashboard use, over the fixture's Redis and prefix.
    app: { breakers: (ids) => readBreakerStatuses(api.redis, api.prefix, ids) },
  });
  const alpha = await createProvider(api, 'alpha');
  const beta = await createProvider(api, 'beta');
  const seen = new Date();
  await api.events.upsertMany(
    alpha,
    [
      // Inside June.
      record({
        externalKey: 'jazz',
        title: 'Jazz night',
        startsAt: new Date('2021-06-10T20:00:00Z'),
        endsAt: new Date('2021-06-10T23:00:00Z'),
        minPrice: '10.00',
        maxPrice: '20.00',
        venue: venue('Blue Note', 'Madrid', 'ES'),
        status: 'scheduled',
        performers: ['Rosalía', 'Chucho Valdés Quartet'],
      }),
      // Straddles the end of June: only an overlap search finds it.
      record({
        externalKey: 'festival',
        title: 'Summer festival',
        startsAt: new Date('2021-06-28T10:00:00Z'),
        endsAt: new Date('2021-07-03T23:00:00Z'),
        minPrice: '80.00',
        maxPrice: '150.00',
        venue: venue('Parque 100%_off', 'Barcelona', 'ES'),
        status: 'cancelled',
      }),
      record({
        externalKey: 'free',
        title: 'Free talk',
        startsAt: new Date('2021-06-15T10:00:00Z'),
        endsAt: new Date('2021-06-15T11:00:00Z'),
        minPrice: null,
        maxPrice: null,
      }),
    ],
    seen,
  );
  await api.events.upsertMany(
    beta,
    [
      record({
        externalKey: 'rock',
        title: 'Rock show',
        startsAt: new Date('2021-06-20T20:00:00Z'),
        endsAt: new Date('2021-06-20T23:00:00Z'),
        minPrice: '30.00',
        maxPrice: '60.00',
        venue: venue('Sala Jazz', 'madrid', 'es'),
        status: 'postponed',
        performers: ['The 100%_Band'],
      }),
    ],
    seen,
  );
  await writeBreakerStatus(api.redis, api.prefix, alpha.id, {
    state: 'open',
    lastError: 'HTTP 503',
    lastErrorAt: '2026-11-27T07:00:00.000Z',
    probeAt: '2026-11-27T07:05:00.000Z',
    reportedBy: 'worker:1',
    updatedAt: '2026-11-27T07:00:00.000Z',
  });
  const runs = new SyncRunRepository(api.db);
  const run = await runs.start(alpha.id, 'manual', 'job-1');
  await runs.succeed(run.id, { fetched: 3, parsed: 3, upserted: 3, unchanged: 0, rejected: 0 }, []);
});

afterAll(async () => {
  await api.close();
});

async function titles(query: string): Promise<string[]> {
  const response = await api.get(`/v1/events/search${query}`);
  const body = await json<{ events: V1Event[] }>(response);
  expect({ query, status: response.status, error: body.error }).toEqual({
    query,
    status: 200,
    error: null,
  });
  return body.data!.events.map((event) => event.title);
}

describe('GET /v1/events/search filters', () => {
  const june = 'starts_at=2021-06-01&ends_at=2021-06-30';

  it('contains by default and overlaps with overlap=true', async () => {
    expect(await titles(`?${june}`)).toEqual(['Jazz night', 'Free talk', 'Rock show']);
    expect(await titles(`?${june}&overlap=false`)).toEqual([
      'Jazz night',
      'Free talk',
      'Rock show',
    ]);
    expect(await titles(`?${june}&overlap=true`)).toEqual([
      'Jazz night',
      'Free talk',
      'Rock show',
      'Summer festival',
    ]);
    expect(await titles('?starts_at=2021-07-02&overlap=true')).toEqual(['Summer festival']);
    expect(await titles('?ends_at=2021-06-10T20:00:00Z&overlap=true')).toEqual(['Jazz night']);
  });

  it('filters by provider', async () => {
    expect(await titles('?provider=beta')).toEqual(['Rock show']);
    expect(await titles('?provider=nobody')).toEqual([]);
  });

  it('filters by price range: the event has a ticket within the bounds', async () => {
    expect(await titles('?min_price=25')).toEqual(['Rock show', 'Summer festival']);
    expect(await titles('?max_price=25')).toEqual(['Jazz night']);
    expect(await titles('?min_price=20&max_price=30')).toEqual(['Jazz night', 'Rock show']);
    expect(await titles('?min_price=0')).not.toContain('Free talk');
  });

  it('filters by text on title or venue, case-insensitively, with LIKE characters literal', async () => {
    expect(await titles('?q=JAZZ')).toEqual(['Jazz night', 'Rock show']);
    expect(await titles('?q=100%25_')).toEqual(['Summer festival']);
    expect(await titles('?q=%25')).toEqual(['Summer festival']);
  });

  it('filters by performer: a case-insensitive substring of any one of them, LIKE characters literal', async () => {
    expect(await titles('?performer=ROSAL%C3%8DA')).toEqual(['Jazz night']);
    expect(await titles('?performer=valdés')).toEqual(['Jazz night']);
    expect(await titles('?performer=100%25_b')).toEqual(['Rock show']);
    expect(await titles('?performer=%25')).toEqual(['Rock show']);
    expect(await titles('?performer=Rosal%C3%ADa%20Chucho')).toEqual([]);
    expect(await titles(`?${june}&performer=band&provider=beta`)).toEqual(['Rock show']);
    const response = await api.get('/v1/events/search?performer=rosal');
    const body = await json<{ events: { performers: string[] }[] }>(response);
    expect(body.data?.events[0]?.performers).toEqual(['Rosalía', 'Chucho Valdés Quartet']);
  });

  it('filters by city, country and status', async () => {
    expect(await titles('?city=MADRID')).toEqual(['Jazz night', 'Rock show']);
    expect(await titles('?country=es&status=cancelled')).toEqual(['Summer festival']);
    expect(await titles('?status=postponed')).toEqual(['Rock show']);
  });

  it.each([
    ['?overlap=yes', 'invalid_parameter', 'overlap'],
    ['?min_price=-1', 'invalid_parameter', 'min_price'],
    ['?max_price=1e3', 'invalid_parameter', 'max_price'],
    ['?min_price=50&max_price=10', 'invalid_range', 'min_price'],
    ['?status=sold', 'invalid_parameter', 'status'],
    ['?limit=1001', 'invalid_parameter', 'limit'],
    ['?q=', 'invalid_parameter', 'q'],
  ])('answers %s with 400 %s', async (query, code, parameter) => {
    const response = await api.get(`/v1/events/search${query}`);
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(body.error?.code).toBe(code);
    expect(body.error?.message.startsWith(`${parameter}:`)).toBe(true);
  });
});

describe('GET /v1/events/:id', () => {
  it('returns the event with its sources', async () => {
    const id = eventId('alpha', 'jazz');
    const response = await api.get(`/v1/events/${id.toUpperCase()}`);
    expect(response.status).toBe(200);
    const body = await json<{ event: Record<string, unknown> }>(response);
    expect(body.data?.event).toMatchObject({
      id,
      title: 'Jazz night',
      provider: 'alpha',
      venue_name: 'Blue Note',
      city: 'Madrid',
      country: 'ES',
      status: 'scheduled',
      sources: [
        {
          provider: 'alpha',
          external_key: 'jazz',
          online: true,
          first_seen_at: expect.any(String),
          last_seen_at: expect.any(String),
        },
      ],
    });
  });

  it.each(['00000000-0000-4000-8000-000000000000', 'not-a-uuid', '%E2%9C%93'])(
    'answers 404 with the envelope for %s',
    async (id) => {
      const response = await api.get(`/v1/events/${id}`);
      expect(response.status).toBe(404);
      expect(await json(response)).toEqual({
        data: null,
        error: { code: 'not_found', message: 'no event with this id' },
      });
    },
  );
});

describe('GET /v1/providers', () => {
  it('lists every provider with its event count, last sync run and breaker', async () => {
    const response = await api.get('/v1/providers');
    expect(response.status).toBe(200);
    const body = await json<{ providers: Record<string, unknown>[] }>(response);
    expect(body.data?.providers).toEqual([
      {
        id: expect.any(String),
        name: 'alpha',
        kind: 'fever-xml',
        enabled: true,
        every_seconds: 60,
        events: 3,
        last_sync: {
          status: 'succeeded',
          trigger: 'manual',
          started_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          finished_at: expect.stringMatching(/Z$/),
          upserted: 3,
          unchanged: 0,
          rejected: 0,
          error: null,
          resumes_at: null,
        },
        breaker: {
          state: 'open',
          last_error: 'HTTP 503',
          probe_at: '2026-11-27T07:05:00.000Z',
        },
      },
      {
        id: expect.any(String),
        name: 'beta',
        kind: 'fever-xml',
        enabled: true,
        every_seconds: 60,
        events: 1,
        last_sync: null,
        breaker: { state: 'closed', last_error: null, probe_at: null },
      },
    ]);
  });
});
