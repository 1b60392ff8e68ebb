// html-selectors with `detail`, against a venue site on 127.0.0.1 that lists its events on one
// page and gives price and performers on each event's own page (selectors there), with the
// page's JSON-LD for what the selectors do not find; a field nothing filled and a missing page
// (which keeps the listed event) are warnings; a walk resumed part-way through a page starts at
// its next event.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFeedServer, type FeedServer } from '@marquee/testing';
import { htmlSelectors, parseProviderConfig, type WalkedPage } from '../src/index.ts';
import { loopbackFetch } from './loopback.fetch.ts';

const LISTING = `<!doctype html><html lang="es"><body><h1>Agenda</h1><ul>
  <li class="evento"><a href="/agenda/rumba">Nit de Rumba</a><time>12/07/2026 23:00</time></li>
  <li class="evento"><a href="/agenda/zahara">Zahara</a><time>10/07/2026 21:00</time></li>
  <li class="evento"><a href="/agenda/perdido">Concierto perdido</a><time>14/07/2026 20:00</time></li>
</ul></body></html>`;

const PAGES: Record<string, string> = {
  '/agenda/rumba': `<html><body><h1>Nit de Rumba</h1>
    <p class="precio">Anticipada 12€ / Taquilla 15€</p>
    <ul class="artistas"><li>La Pegatina</li><li>Muchachito</li></ul></body></html>`,
  '/agenda/zahara': `<html><head><script type="application/ld+json">${JSON.stringify({
    '@context': 'https://schema.org',
    '@type': 'MusicEvent',
    name: 'Zahara',
    startDate: '2026-07-10T21:00:00+02:00',
    location: { '@type': 'Place', name: 'Sala Apolo', address: { addressLocality: 'Barcelona' } },
    performer: { '@type': 'MusicGroup', name: 'Zahara' },
    offers: { '@type': 'Offer', price: '22.00', priceCurrency: 'EUR' },
  })}</script></head><body><h1>Zahara</h1></body></html>`,
};

const config = {
  items: 'li.evento',
  fields: { title: 'a', start: 'time', url: 'a@href' },
  dateFormats: ['dd/MM/yyyy HH:mm'],
  priceLocale: 'es',
  detail: {
    fields: {
      minPrice: '.precio',
      maxPrice: '.precio',
      performers: '.artistas li',
      venueName: '.sala',
    },
  },
};

let site: FeedServer;
const fetch = loopbackFetch;

beforeAll(async () => {
  site = await startFeedServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const body = path === '/agenda' ? LISTING : PAGES[path];
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  });
});

afterAll(() => site.close());

const context = () => ({
  url: `${site.url}/agenda`,
  config: parseProviderConfig(htmlSelectors, config),
  timezone: 'Europe/Madrid',
  fetch,
});

describe('html-selectors with detail pages', () => {
  it('reads each event page: selectors, then its JSON-LD; a missing page keeps the event', async () => {
    site.hits.clear();
    const result = await htmlSelectors.ingest(context());
    expect(result).toMatchObject({ fetched: 3, rejected: 0 });
    expect(
      result.events.map((event) => [
        event.title,
        event.minPrice,
        event.maxPrice,
        event.currency,
        event.performers,
        event.venue?.name ?? null,
      ]),
    ).toEqual([
      ['Nit de Rumba', '12.00', '15.00', 'EUR', ['La Pegatina', 'Muchachito'], null],
      ['Zahara', '22.00', '22.00', 'EUR', ['Zahara'], 'Sala Apolo'],
      ['Concierto perdido', null, null, null, [], null],
    ]);
    // The key stays the listing's: the event is the same whether or not its page was read.
    expect(result.events[2]?.url).toBe(`${site.url}/agenda/perdido`);
    // A field nothing filled (no `.sala` on the page, no JSON-LD there) is named per item.
    expect(result.warnings).toEqual([
      {
        key: `${site.url}/agenda/rumba`,
        reason: `detail venueName: ".sala" matched nothing on ${site.url}/agenda/rumba`,
      },
      {
        key: `${site.url}/agenda/perdido`,
        reason: expect.stringMatching(
          /^detail page http:\/\/127\.0\.0\.1:\d+\/agenda\/perdido: .*404/,
        ),
      },
    ]);
    expect([...site.hits.entries()]).toEqual([
      ['/agenda', 1],
      ['/agenda/rumba', 1],
      ['/agenda/zahara', 1],
      ['/agenda/perdido', 1],
    ]);
  });

  it('a walk resumed at an event of a page reads that page again and goes on from it', async () => {
    site.hits.clear();
    const pages: WalkedPage[] = [];
    await htmlSelectors.walkPages(
      context(),
      { url: `${site.url}/agenda`, index: 0, seen: 0, item: 1 },
      (page) => {
        pages.push(page);
        return Promise.resolve();
      },
    );
    expect(
      pages.map((page) => [
        page.outcomes.map((outcome) => ('event' in outcome ? outcome.event.title : outcome.key)),
        page.next?.item ?? null,
      ]),
    ).toEqual([
      [['Zahara'], 2],
      [['Concierto perdido'], null],
    ]);
    expect(site.hits.get('/agenda/rumba')).toBeUndefined();
  });
});
