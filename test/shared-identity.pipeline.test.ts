// Two real-shaped providers that share an ISRC-like code, through the real worker pipeline
// (BullMQ on Redis, the worker runtime, PostgreSQL) and the API: a paged ticketing API (skip/top,
// Bearer token from an env var, prices written the Spanish way) and a Spanish venue page with
// JSON-LD. Their coded event is one canonical event in /search and /v1/events/search, with both
// sources and the spanned prices in /v1/events/:id; an uncoded pair whose venue differs only by
// its city suffix is merged too; "Sala Apolo 2" and "Sala Apolo" stay two venues.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Db, Provider } from '@marquee/db';
import { eventId } from '@marquee/event-model';
import { startFeedServer, type FeedServer } from '@marquee/testing';
import type { SyncSummary } from '@marquee/worker';
import { startPipelineStack, type PipelineStack } from './pipeline.stack.ts';

const TOKEN_ENV = 'MARQUEE_TEST_IDENTITY_TOKEN';
const TOKEN = 'tk-identity-51';

/** The ticketing API's events, in the shape such APIs answer (skip/top paging, a total). */
const API_EVENTS = [
  {
    _id: 'ev-rosalia',
    name: 'ROSALÍA – MOTOMAMI World Tour',
    start: '2026-07-04T21:00:00+02:00',
    location: { name: 'Palau St. Jordi', city: 'Barcelona' },
    isrc: 'ES-A01-24-00001',
    price: { from: '45,00 €', to: '1.250,00 €' },
  },
  {
    _id: 'ev-zahara',
    name: 'Zahara',
    start: '2026-07-10T21:00:00+02:00',
    location: { name: 'Palau Sant Jordi', city: 'Barcelona' },
    price: { from: 'Anticipada 12€ / Taquilla 15€' },
  },
  {
    _id: 'ev-apolo',
    name: 'Nit de Rumba',
    start: '2026-07-11T23:00:00+02:00',
    location: { name: 'Sala Apolo 2', city: 'Barcelona' },
    price: { from: 'Gratis' },
  },
];

const jsonLd = (node: Record<string, unknown>) =>
  `<script type="application/ld+json">${JSON.stringify({ '@context': 'https://schema.org', ...node })}</script>`;

/** The venue's own page: JSON-LD events, the code in `identifier`, Spanish prices. */
const VENUE_PAGE = `<!doctype html><html lang="es"><head><meta charset="utf-8">
${jsonLd({
  '@type': 'MusicEvent',
  name: 'Rosalía',
  url: '/agenda/rosalia',
  startDate: '2026-07-04T21:00:00+02:00',
  location: {
    '@type': 'Place',
    name: 'Palau Sant Jordi',
    address: { addressLocality: 'Barcelona' },
  },
  identifier: { '@type': 'PropertyValue', propertyID: 'ISRC', value: 'ESA012400001' },
  offers: {
    '@type': 'AggregateOffer',
    lowPrice: '39,00',
    highPrice: '95,00',
    priceCurrency: 'EUR',
  },
})}
${jsonLd({
  '@type': 'MusicEvent',
  name: 'Zahara',
  url: '/agenda/zahara',
  startDate: '2026-07-10T21:00:00+02:00',
  location: { '@type': 'Place', name: 'Palau Sant Jordi (Barcelona)' },
  offers: { '@type': 'Offer', price: 'desde 10 €' },
})}
${jsonLd({
  '@type': 'MusicEvent',
  name: 'Nit de Rumba',
  url: '/agenda/rumba',
  startDate: '2026-07-11T23:00:00+02:00',
  location: { '@type': 'Place', name: 'Sala Apolo', address: { addressLocality: 'Barcelona' } },
})}
</head><body><h1>Agenda</h1></body></html>`;

let stack: PipelineStack;
let db: Db;
let apiUrl: string;
let tickets: FeedServer;
let venueSite: FeedServer;
let ticketApi: Provider;
let venuePage: Provider;

beforeAll(async () => {
  process.env[TOKEN_ENV] = TOKEN;
  stack = await startPipelineStack({
    label: 'identity-pipeline',
    workerEnv: { WORKER_CONCURRENCY: '1', FETCH_MAX_BYTES: '2000000' },
    api: true,
  });
  ({ db, apiUrl } = stack);
  tickets = await startFeedServer((request, response) => {
    if (request.headers.authorization !== `Bearer ${TOKEN}`) {
      response.writeHead(401).end();
      return;
    }
    const query = new URL(request.url ?? '/', 'http://x').searchParams;
    const skip = Number(query.get('skip') ?? 0);
    const top = Number(query.get('top') ?? 2);
    const rows = API_EVENTS.slice(skip, skip + top);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ rows, total: API_EVENTS.length }));
  });
  venueSite = await startFeedServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(VENUE_PAGE);
  });
  ticketApi = await stack.providers.create({
    name: 'tickets-api',
    kind: 'json-api',
    url: `${tickets.url}/api/events`,
    everySeconds: 3600,
    timezone: 'Europe/Madrid',
    config: {
      items: 'rows',
      fields: {
        id: '_id',
        title: 'name',
        start: 'start',
        venueName: 'location.name',
        venueCity: 'location.city',
        minPrice: 'price.from',
        maxPrice: 'price.to',
      },
      pagination: {
        type: 'offset',
        offsetParam: 'skip',
        limitParam: 'top',
        limit: 2,
        totalPath: 'total',
      },
      auth: { name: 'Authorization', prefix: 'Bearer ', env: TOKEN_ENV },
      dedupeKey: 'isrc',
      priceLocale: 'es',
    },
  });
  venuePage = await stack.providers.create({
    name: 'palau-web',
    kind: 'jsonld-html',
    url: `${venueSite.url}/agenda`,
    everySeconds: 3600,
    timezone: 'Europe/Madrid',
    config: { maxPages: 1, dedupeKey: 'identifier.value', priceLocale: 'es' },
  });
});

afterAll(async () => {
  delete process.env[TOKEN_ENV];
  await stack.close();
  await Promise.all([tickets.close(), venueSite.close()]);
});

const sync = (provider: Provider): Promise<SyncSummary> => stack.sync(provider);

async function get<T>(path: string): Promise<T> {
  const response = await fetch(`${apiUrl}${path}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: T }).data;
}

interface Listed {
  id: string;
  title: string;
  min_price: number | null;
  max_price: number | null;
}

const WINDOW = 'starts_at=2026-07-01T00:00:00Z&ends_at=2026-07-31T00:00:00Z';
const ROSALIA = eventId('tickets-api', 'ev-rosalia');
const ZAHARA = eventId('tickets-api', 'ev-zahara');

describe('two providers that share a code', () => {
  it('both sync; the API is walked page by page with its token', async () => {
    expect(await sync(ticketApi)).toMatchObject({
      fetched: 3,
      parsed: 3,
      upserted: 3,
      rejected: 0,
    });
    expect(await sync(venuePage)).toMatchObject({
      fetched: 3,
      parsed: 3,
      upserted: 3,
      rejected: 0,
    });
    expect(tickets.hits.get('/api/events')).toBe(2);
    const rows = await db.$queryRaw<
      {
        external_key: string;
        min_price: string | null;
        max_price: string | null;
        currency: string | null;
      }[]
    >`
      SELECT external_key, min_price::text, max_price::text, currency FROM events ORDER BY external_key COLLATE "C"`;
    expect(
      rows.map((row) => [row.external_key, row.min_price, row.max_price, row.currency]),
    ).toEqual([
      ['/agenda/rosalia|2026-07-04T21:00:00+02:00', '39.00', '95.00', 'EUR'],
      ['/agenda/rumba|2026-07-11T23:00:00+02:00', null, null, null],
      ['/agenda/zahara|2026-07-10T21:00:00+02:00', '10.00', null, 'EUR'],
      ['ev-apolo', '0.00', '0.00', null],
      ['ev-rosalia', '45.00', '1250.00', 'EUR'],
      ['ev-zahara', '12.00', '15.00', 'EUR'],
    ]);
  });

  it('/search lists the coded event and the suffix pair once, and the two Apolo rooms apart', async () => {
    const { events } = await get<{ events: Listed[] }>(`/search?${WINDOW}`);
    expect(events.map((event) => [event.id, event.title])).toEqual([
      [ROSALIA, 'ROSALÍA – MOTOMAMI World Tour'],
      [ZAHARA, 'Zahara'],
      [eventId('tickets-api', 'ev-apolo'), 'Nit de Rumba'],
      [eventId('palau-web', '/agenda/rumba|2026-07-11T23:00:00+02:00'), 'Nit de Rumba'],
    ]);
  });

  it('/v1/events/search too', async () => {
    const { events } = await get<{ events: (Listed & { provider: string })[] }>(
      `/v1/events/search?${WINDOW}`,
    );
    expect(events.map((event) => [event.provider, event.title])).toEqual([
      ['tickets-api', 'ROSALÍA – MOTOMAMI World Tour'],
      ['tickets-api', 'Zahara'],
      ['tickets-api', 'Nit de Rumba'],
      ['palau-web', 'Nit de Rumba'],
    ]);
  });

  it('/v1/events/:id lists both sources and spans their prices, from either id', async () => {
    const venueId = eventId('palau-web', '/agenda/rosalia|2026-07-04T21:00:00+02:00');
    for (const id of [ROSALIA, venueId]) {
      const { event } = await get<{
        event: Listed & {
          currency: string;
          sources: { provider: string; min_price: number; max_price: number }[];
        };
      }>(`/v1/events/${id}`);
      expect(event.id).toBe(id);
      expect(
        event.sources.map((source) => [source.provider, source.min_price, source.max_price]),
      ).toEqual([
        ['tickets-api', 45, 1250],
        ['palau-web', 39, 95],
      ]);
      expect([event.min_price, event.max_price, event.currency]).toEqual([39, 1250, 'EUR']);
    }
    const { event: zahara } = await get<{ event: Listed & { sources: unknown[] } }>(
      `/v1/events/${ZAHARA}`,
    );
    expect(zahara.sources).toHaveLength(2);
    // "desde 10 €" is a least price only: the greatest stays the API's 15.
    expect([zahara.min_price, zahara.max_price]).toEqual([10, 15]);
  });

  it('a price open at one end matches price filters by its known end', async () => {
    const { events } = await get<{ events: Listed[] }>(
      `/v1/events/search?${WINDOW}&provider=palau-web&min_price=5`,
    );
    // Zahara is "desde 10 €": min 10, no max.
    expect(events.map((event) => [event.title, event.min_price, event.max_price])).toEqual([
      ['Rosalía', 39, 95],
      ['Zahara', 10, null],
    ]);
  });

  it('a re-sync of both writes nothing and keeps the ids', async () => {
    expect(await sync(ticketApi)).toMatchObject({ upserted: 0, changed: false });
    expect(await sync(venuePage)).toMatchObject({ upserted: 0, changed: false });
    const { events } = await get<{ events: Listed[] }>(`/search?${WINDOW}`);
    expect(events.map((event) => event.id).slice(0, 2)).toEqual([ROSALIA, ZAHARA]);
  });
});
