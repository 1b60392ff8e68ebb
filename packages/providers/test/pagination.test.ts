// The page-walking kinds against real HTTP servers on 127.0.0.1: every pagination style of
// json-api (with an auth header from an env var and a request rate limit), a paginated venue site
// for jsonld-html and html-selectors, and an xml-feed whose encoding declaration lies.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import iconv from 'iconv-lite';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startFeedServer, type FeedServer } from '@marquee/testing';
import {
  htmlSelectors,
  jsonApi,
  jsonldHtml,
  parseProviderConfig,
  xmlFeed,
  type FetchPage,
  type ProviderKind,
} from '../src/index.ts';
import { loopbackFetch } from './loopback.fetch.ts';

/** When each request was sent, by path: the rate limit spaces the sends. */
const sentAt = new Map<string, number[]>();

const fetch: FetchPage = (url, options) => {
  const path = new URL(url).pathname;
  sentAt.set(path, [...(sentAt.get(path) ?? []), performance.now()]);
  return loopbackFetch(url, options);
};

const TOKEN_ENV = 'MARQUEE_TEST_PAGINATED_TOKEN';
const TOKEN = 'tok-3f9a';

/** Five events as a typical ticketing API writes them. */
const EVENTS = [1, 2, 3, 4, 5].map((n) => ({
  id: `e${n}`,
  name: `Show ${n}`,
  when: `2026-03-0${n}T20:00:00+0100`,
  venue: { name: 'Sala Sol', city: 'Madrid', lat: '40.4169', lng: '-3.7035' },
  price: { min: n === 5 ? '' : '10', max: n === 5 ? null : '25.5', currency: 'eur' },
}));

const FIELDS = {
  id: 'id',
  title: 'name',
  start: 'when',
  venueName: 'venue.name',
  venueCity: 'venue.city',
  venueLat: 'venue.lat',
  venueLon: 'venue.lng',
  minPrice: 'price.min',
  maxPrice: 'price.max',
  currency: 'price.currency',
};

let api: FeedServer;
let site: FeedServer;

function sendJson(response: ServerResponse, body: unknown, status = 200): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function apiHandler(request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://api');
  if (request.headers.authorization !== `Bearer ${TOKEN}`) {
    sendJson(response, { error: 'unauthorized' }, 401);
    return;
  }
  const number = (name: string, fallback: number) => Number(url.searchParams.get(name) ?? fallback);
  switch (url.pathname) {
    case '/page': {
      // Ticketmaster style: 0-based pages, the page count in the body.
      const page = number('page', 0);
      const size = number('size', 20);
      sendJson(response, {
        _embedded: { events: EVENTS.slice(page * size, page * size + size) },
        page: { number: page, totalPages: Math.ceil(EVENTS.length / size) },
      });
      return;
    }
    case '/skip': {
      // vivenu style skip/limit with a total.
      const skip = number('skip', 0);
      const limit = number('limit', 50);
      sendJson(response, { rows: EVENTS.slice(skip, skip + limit), total: EVENTS.length });
      return;
    }
    case '/cursor': {
      const start = Number(url.searchParams.get('after') ?? '0');
      const rows = EVENTS.slice(start, start + 2);
      const more = start + 2 < EVENTS.length;
      sendJson(response, { data: rows, meta: { next: more ? String(start + 2) : null, more } });
      return;
    }
    case '/link': {
      const page = number('p', 1);
      sendJson(response, {
        items: EVENTS.slice((page - 1) * 3, page * 3),
        links: page < 2 ? { next: `/link?p=${page + 1}` } : {},
      });
      return;
    }
    default:
      sendJson(response, { error: 'not found' }, 404);
  }
}

function jsonLdPage(events: object[], next?: string): string {
  const blocks = events
    .map((event) => `<script type="application/ld+json">${JSON.stringify(event)}</script>`)
    .join('\n');
  return `<!doctype html><html><head>${blocks}</head><body>
    ${next === undefined ? '' : `<a class="next" rel="next" href="${next}">next</a>`}
  </body></html>`;
}

const featured = {
  '@context': 'https://schema.org',
  '@type': 'MusicEvent',
  name: 'Featured Night',
  url: '/events/featured',
  startDate: '2026-04-01T21:00:00+02:00',
  location: { '@type': 'Place', name: 'Sala Sol' },
};

function siteEvent(page: number, n: number) {
  return {
    '@context': 'https://schema.org',
    '@type': n === 1 ? 'TheaterEvent' : 'ComedyEvent',
    name: `Page ${page} show ${n}`,
    url: `/events/${page}-${n}`,
    startDate: `2026-04-${10 + page}T2${n}:00:00`,
    location: {
      '@type': 'Place',
      name: 'Teatro Real',
      address: { '@type': 'PostalAddress', addressLocality: 'Madrid', addressCountry: 'ES' },
    },
    offers: { '@type': 'Offer', price: `${page}${n}.50`, priceCurrency: 'EUR' },
  };
}

function listingPage(page: number): string {
  const items = [1, 2]
    .map(
      (n) => `<div class="ev">
        <h3> Page ${page} act ${n} </h3>
        <span class="date">${10 + page}/05/2026 2${n}:30</span>
        <span class="venue">Sala Sol</span>
        <span class="price">€ ${page}${n},50</span>
        <a class="more" href="/acts/${page}-${n}">more</a>
      </div>`,
    )
    .join('\n');
  const next = page < 3 ? `<a class="next" href="/listing/${page + 1}.html">›</a>` : '';
  return `<html><body>${items}${next}</body></html>`;
}

function siteHandler(request: IncomingMessage, response: ServerResponse): void {
  const path = new URL(request.url ?? '/', 'http://site').pathname;
  const html = (body: string) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(body);
  };
  const pageMatch = /^\/events\/page-(\d)\.html$/.exec(path);
  if (pageMatch) {
    const page = Number(pageMatch[1]);
    // Page 3 links back to page 1: the crawl must stop rather than loop.
    const next = page < 3 ? `page-${page + 1}.html` : '/events/page-1.html';
    html(jsonLdPage([featured, siteEvent(page, 1), siteEvent(page, 2)], next));
    return;
  }
  const listing = /^\/listing\/(\d)\.html$/.exec(path);
  if (listing) {
    html(listingPage(Number(listing[1])));
    return;
  }
  if (path === '/latin1-declared-utf8.xml' || path === '/utf8-declared-latin1.xml') {
    const declared = path.startsWith('/latin1') ? 'UTF-8' : 'ISO-8859-1';
    const text = `<?xml version="1.0" encoding="${declared}"?>
      <feed><show id="1"><title>Café Zürich — señor</title><date>2026-05-01 20:00</date></show></feed>`;
    response.writeHead(200, { 'content-type': 'application/xml' });
    response.end(
      path.startsWith('/latin1') ? iconv.encode(text, 'windows-1252') : Buffer.from(text),
    );
    return;
  }
  if (path === '/rss.xml') {
    response.writeHead(200, { 'content-type': 'application/rss+xml' });
    response.end(`<?xml version="1.0"?>
      <rss version="2.0" xmlns:ev="http://purl.org/rss/1.0/modules/event/">
        <channel><title>Venue</title>
          <item><title>Jazz &amp; Wine</title><link>https://venue.example/e/1</link>
            <guid>e-1</guid><ev:startdate>2026-06-01T20:00:00+02:00</ev:startdate>
            <ev:location>Sala Sol</ev:location></item>
          <item><title>No date</title><link>https://venue.example/e/2</link></item>
        </channel></rss>`);
    return;
  }
  response.writeHead(404).end();
}

beforeAll(async () => {
  process.env[TOKEN_ENV] = TOKEN;
  api = await startFeedServer(apiHandler);
  site = await startFeedServer(siteHandler);
});

afterAll(async () => {
  delete process.env[TOKEN_ENV];
  await api.close();
  await site.close();
});

async function ingest<Config>(
  kind: ProviderKind<Config>,
  url: string,
  config: unknown,
  timezone = 'Europe/Madrid',
) {
  return kind.ingest({ url, config: parseProviderConfig(kind, config), timezone, fetch });
}

const auth = { in: 'header', name: 'Authorization', prefix: 'Bearer ', env: TOKEN_ENV };

describe('json-api pagination against a local API', () => {
  const expectAllFive = (result: Awaited<ReturnType<typeof jsonApi.ingest>>) => {
    expect(result).toMatchObject({ fetched: 5, rejected: 0 });
    expect(result.events.map((event) => event.externalKey)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(result.events[0]).toMatchObject({
      title: 'Show 1',
      minPrice: '10.00',
      maxPrice: '25.50',
      currency: 'EUR',
      venue: { name: 'Sala Sol', city: 'Madrid', lat: 40.4169, lon: -3.7035 },
    });
    expect(result.events[0]?.startsAt.toISOString()).toBe('2026-03-01T19:00:00.000Z');
    // An empty price is unknown, never 0.
    expect(result.events[4]).toMatchObject({ minPrice: null, maxPrice: null, currency: null });
  };

  it('page/size (0-based, page count in the body), with a minimum interval between requests', async () => {
    const result = await ingest(jsonApi, `${api.url}/page`, {
      items: '_embedded.events',
      fields: FIELDS,
      auth,
      pagination: {
        type: 'page',
        pageParam: 'page',
        sizeParam: 'size',
        size: 2,
        firstPage: 0,
        totalPagesPath: 'page.totalPages',
      },
      minIntervalMs: 150,
    });
    expectAllFive(result);
    expect(api.hits.get('/page')).toBe(3);
    const times = sentAt.get('/page') ?? [];
    expect(times).toHaveLength(3);
    for (let index = 1; index < times.length; index += 1) {
      expect((times[index] ?? 0) - (times[index - 1] ?? 0)).toBeGreaterThanOrEqual(140);
    }
  });

  it('skip/limit with a total', async () => {
    const result = await ingest(jsonApi, `${api.url}/skip`, {
      items: 'rows',
      fields: FIELDS,
      auth,
      pagination: {
        type: 'offset',
        offsetParam: 'skip',
        limitParam: 'limit',
        limit: 2,
        totalPath: 'total',
      },
    });
    expectAllFive(result);
    expect(api.hits.get('/skip')).toBe(3);
  });

  it('cursor with a has-more flag', async () => {
    const result = await ingest(jsonApi, `${api.url}/cursor`, {
      items: 'data',
      fields: FIELDS,
      auth,
      pagination: {
        type: 'cursor',
        cursorParam: 'after',
        cursorPath: 'meta.next',
        hasMorePath: 'meta.more',
      },
    });
    expectAllFive(result);
    expect(api.hits.get('/cursor')).toBe(3);
  });

  it('relative next link; maxPages caps the walk', async () => {
    const config = {
      items: 'items',
      fields: FIELDS,
      auth,
      pagination: { type: 'next-link', nextPath: 'links.next' },
    };
    expectAllFive(await ingest(jsonApi, `${api.url}/link`, config));
    const capped = await ingest(jsonApi, `${api.url}/link`, { ...config, maxPages: 1 });
    expect(capped.events).toHaveLength(3);
  });

  it('without the secret in the environment: a config error naming the variable, no request', async () => {
    const before = api.hits.get('/page') ?? 0;
    await expect(
      ingest(jsonApi, `${api.url}/page`, {
        items: '_embedded.events',
        fields: FIELDS,
        auth: { ...auth, env: 'MARQUEE_TEST_UNSET_TOKEN' },
      }),
    ).rejects.toThrow('environment variable MARQUEE_TEST_UNSET_TOKEN (auth.env) is not set');
    expect(api.hits.get('/page') ?? 0).toBe(before);
  });
});

describe('a paginated venue site', () => {
  it('jsonld-html follows the next link, dedupes the repeated node, stops at a loop', async () => {
    const result = await ingest(jsonldHtml, `${site.url}/events/page-1.html`, {
      nextSelector: 'a[rel=next]',
    });
    expect(site.hits.get('/events/page-1.html')).toBe(1);
    expect(site.hits.get('/events/page-3.html')).toBe(1);
    expect(result).toMatchObject({ fetched: 7, rejected: 0 });
    expect(result.events.filter((event) => event.title === 'Featured Night')).toHaveLength(1);
    const show = result.events.find((event) => event.title === 'Page 2 show 1');
    expect(show).toMatchObject({
      url: `${site.url}/events/2-1`,
      minPrice: '21.50',
      maxPrice: '21.50',
      currency: 'EUR',
      venue: { name: 'Teatro Real', city: 'Madrid', country: 'ES' },
    });
    expect(show?.startsAt.toISOString()).toBe('2026-04-12T19:00:00.000Z'); // 21:00 in Madrid
  });

  it('jsonld-html reads one page without nextSelector and at most maxPages with it', async () => {
    const single = await ingest(jsonldHtml, `${site.url}/events/page-1.html`, {});
    expect(single.events).toHaveLength(3);
    const two = await ingest(jsonldHtml, `${site.url}/events/page-1.html`, {
      nextSelector: 'a.next',
      maxPages: 2,
    });
    expect(two.events).toHaveLength(5);
  });

  it('html-selectors: items, fields, attributes, a date format and the site timezone, over 3 pages', async () => {
    const result = await ingest(htmlSelectors, `${site.url}/listing/1.html`, {
      items: 'div.ev',
      fields: {
        title: 'h3',
        start: '.date',
        venueName: '.venue',
        minPrice: '.price',
        maxPrice: '.price',
        url: 'a.more@href',
      },
      dateFormats: ['dd/MM/yyyy HH:mm'],
      timezone: 'Europe/Madrid',
      nextSelector: 'a.next',
    });
    expect(result).toMatchObject({ fetched: 6, rejected: 0 });
    expect(result.events[0]).toMatchObject({
      title: 'Page 1 act 1',
      externalKey: `${site.url}/acts/1-1`,
      url: `${site.url}/acts/1-1`,
      minPrice: '11.50',
      venue: { name: 'Sala Sol' },
      timezone: 'Europe/Madrid',
      allDay: false,
    });
    expect(result.events[0]?.startsAt.toISOString()).toBe('2026-05-11T19:30:00.000Z');
    expect(result.events.at(-1)?.title).toBe('Page 3 act 2');
  });
});

describe('xml-feed over HTTP', () => {
  const config = {
    items: 'feed.show',
    fields: { id: '@id', title: 'title', start: 'date' },
    dateFormats: ['yyyy-MM-dd HH:mm'],
  };

  it.each(['/latin1-declared-utf8.xml', '/utf8-declared-latin1.xml'])(
    'decodes %s by its bytes, not its misleading declaration',
    async (path) => {
      const result = await ingest(xmlFeed, `${site.url}${path}`, config);
      expect(result.events).toHaveLength(1);
      expect(result.events[0]?.title).toBe('Café Zürich — señor');
      expect(result.events[0]?.startsAt.toISOString()).toBe('2026-05-01T18:00:00.000Z');
    },
  );

  it('reads RSS items with the event module by default; an item without a date is rejected', async () => {
    const result = await ingest(xmlFeed, `${site.url}/rss.xml`, {});
    expect(result).toMatchObject({ fetched: 2, rejected: 1 });
    expect(result.events[0]).toMatchObject({
      externalKey: 'e-1',
      title: 'Jazz & Wine',
      url: 'https://venue.example/e/1',
      venue: { name: 'Sala Sol' },
    });
    expect(result.rejects[0]).toEqual({
      key: 'https://venue.example/e/2',
      reason: 'missing start',
    });
  });
});
