// dedupeKey and priceLocale in every declarative kind: the shared code is read where the config
// says (a path, a selector, a JSON-LD property), normalized, and an item without one is kept with
// a warning naming the path; prices are read as people write them. Configs with a key the kind
// does not know are refused, naming the key, for every kind and preset.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFeedServer, type FeedServer } from '@marquee/testing';
import {
  getProviderKind,
  htmlSelectors,
  jsonApi,
  jsonldHtml,
  loadHtml,
  parseJsonldPage,
  parseJsonPage,
  parseProviderConfig,
  parseXmlFeed,
  ParseResultBuilder,
  presets,
  providerKinds,
  xmlFeed,
  type ParseResult,
} from '../src/index.ts';
import { loopbackFetch } from './loopback.fetch.ts';

const json = (page: unknown, config: Record<string, unknown>): ParseResult => {
  const result = new ParseResultBuilder();
  parseJsonPage(page, parseProviderConfig(jsonApi, config), { timezone: 'Europe/Madrid' }, result);
  return result.build();
};

/** html-selectors reads a page served by a local server, as a sync would. */
let site: FeedServer;
let sitePage = '';
beforeAll(async () => {
  site = await startFeedServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(sitePage);
  });
});
afterAll(() => site.close());

const html = (body: string, config: Record<string, unknown>): Promise<ParseResult> => {
  sitePage = body;
  return htmlSelectors.ingest({
    url: `${site.url}/agenda`,
    config: parseProviderConfig(htmlSelectors, config),
    timezone: 'Europe/Madrid',
    fetch: loopbackFetch,
  });
};

const TRACKS = {
  data: [
    {
      id: 1,
      name: 'Rosalía',
      at: '2026-07-04T21:00:00+02:00',
      isrc: 'es-a01-24-00001',
      price: '1.250,00 €',
    },
    {
      id: 2,
      name: 'Bad Gyal',
      at: '2026-07-05T21:00:00+02:00',
      isrc: '',
      price: 'Anticipada 12€ / Taquilla 15€',
    },
    { id: 3, name: 'Ojete Calor', at: '2026-07-06T21:00:00+02:00', price: 12.345 },
    { id: 4, name: 'Zahara', at: '2026-07-07T21:00:00+02:00', isrc: 'N/A', price: 'Consultar' },
  ],
};
const JSON_CONFIG = {
  items: 'data',
  fields: { id: 'id', title: 'name', start: 'at', minPrice: 'price' },
  dedupeKey: 'isrc',
  priceLocale: 'es',
};

describe('dedupeKey', () => {
  it('json-api reads the path, normalizes the code, and keeps an item without one with a warning', () => {
    const result = json(TRACKS, JSON_CONFIG);
    expect(result.events.map((event) => [event.title, event.dedupeKey ?? null])).toEqual([
      ['Rosalía', 'ESA012400001'],
      ['Bad Gyal', null],
      ['Ojete Calor', null],
      ['Zahara', null],
    ]);
    expect(result.rejected).toBe(0);
    expect(result.warnings).toEqual([
      { key: '2', reason: 'dedupeKey path "isrc" absent: matched by title, venue and start' },
      { key: '3', reason: 'dedupeKey path "isrc" absent: matched by title, venue and start' },
      { key: '4', reason: 'price "Consultar": no amount' },
      {
        key: '4',
        reason:
          'dedupeKey path "isrc": placeholder "N/A", no code: matched by title, venue and start',
      },
    ]);
    expect(result.warned).toBe(4);
  });

  it('without a dedupeKey no item carries a code or a warning about one', () => {
    const result = json(TRACKS, { ...JSON_CONFIG, dedupeKey: undefined });
    expect(result.events.every((event) => event.dedupeKey === undefined)).toBe(true);
    expect(result.warnings?.map((warning) => warning.reason)).toEqual([
      'price "Consultar": no amount',
    ]);
  });

  it('xml-feed reads an attribute or a list of paths; a template namespaces a code', () => {
    const feed = `<?xml version="1.0"?><shows>
      <show code="84-12345-678901"><t>One</t><d>2026-07-04T21:00:00Z</d></show>
      <show><ean>8412345678902</ean><t>Two</t><d>2026-07-05T21:00:00Z</d></show></shows>`;
    const read = (dedupeKey: unknown) =>
      parseXmlFeed(
        Buffer.from(feed),
        parseProviderConfig(xmlFeed, {
          items: 'shows.show',
          fields: { title: 't', start: 'd' },
          dedupeKey,
        }),
        { timezone: 'UTC' },
      ).events.map((event) => event.dedupeKey);
    expect(read(['@code', 'ean'])).toEqual(['8412345678901', '8412345678902']);
    expect(read({ template: 'ean:{ean}' })).toEqual([undefined, 'ean:8412345678902']);
  });

  it('html-selectors reads a selector, its attribute, or the item attribute', async () => {
    const page = `<ul>
      <li class="ev" data-ticket="TK-77"><h3>Uno</h3><time datetime="2026-07-04T21:00">4/7</time>
        <span class="isrc">ESA012400009</span><b class="p">desde 12 €</b></li>
      <li class="ev"><h3>Dos</h3><time datetime="2026-07-05T21:00">5/7</time>
        <b class="p">Entrada libre</b></li></ul>`;
    const config = {
      items: 'li.ev',
      fields: { title: 'h3', start: 'time@datetime', minPrice: '.p' },
    };
    const codes = async (dedupeKey: unknown) =>
      (await html(page, { ...config, dedupeKey })).events.map((event) => event.dedupeKey ?? null);
    expect(await codes('.isrc')).toEqual(['ESA012400009', null]);
    expect(await codes('@data-ticket')).toEqual(['TK77', null]);
    const { events } = await html(page, config);
    expect(events.map((event) => [event.minPrice, event.maxPrice, event.currency])).toEqual([
      ['12.00', null, 'EUR'],
      ['0.00', '0.00', null],
    ]);
  });

  it('jsonld-html reads a property path of the event node', () => {
    const page = `<script type="application/ld+json">[
      {"@type": "MusicEvent", "name": "A", "startDate": "2026-07-04T21:00:00+02:00",
       "identifier": {"@type": "PropertyValue", "propertyID": "ISRC", "value": "ESA012400001"},
       "offers": {"@type": "Offer", "price": 1250.5, "priceCurrency": "EUR"}},
      {"@type": "MusicEvent", "name": "B", "startDate": "2026-07-05T21:00:00+02:00",
       "workPerformed": {"@type": "MusicRecording", "isrcCode": "ESA012400002"},
       "offers": {"@type": "AggregateOffer", "lowPrice": "18,00", "highPrice": "1.250", "priceCurrency": "EUR"}}
    ]</script>`;
    const read = (dedupeKey: unknown, priceLocale?: string) =>
      parseJsonldPage(loadHtml(Buffer.from(page)), {
        timezone: 'Europe/Madrid',
        baseUrl: 'https://venue.example/',
        ...parseProviderConfig(jsonldHtml, { dedupeKey, priceLocale }),
      });
    const both = read(['identifier.value', 'workPerformed.isrcCode']);
    expect(both.events.map((event) => event.dedupeKey)).toEqual(['ESA012400001', 'ESA012400002']);
    expect(both.warnings).toBeUndefined();
    // JSON numbers are read exactly; text by the rule, or by the price locale.
    expect(both.events.map((event) => [event.minPrice, event.maxPrice])).toEqual([
      ['1250.50', '1250.50'],
      ['18.00', '1250.00'],
    ]);
    const english = read('identifier.value', 'en');
    expect(english.events.map((event) => [event.minPrice, event.maxPrice])).toEqual([
      ['1250.50', '1250.50'],
      ['1.25', '18.00'],
    ]);
    expect(english.warnings).toEqual([
      {
        key: expect.any(String),
        reason: 'dedupeKey path "identifier.value" absent: matched by title, venue and start',
      },
    ]);
  });
});

describe('prices in a kind', () => {
  it('json-api stores the currency the text names, and reads by the price locale', () => {
    const events = json(TRACKS, JSON_CONFIG).events;
    expect(events.map((event) => [event.minPrice, event.maxPrice, event.currency])).toEqual([
      ['1250.00', '1250.00', 'EUR'],
      ['12.00', '15.00', 'EUR'],
      ['12.35', '12.35', null],
      [null, null, null],
    ]);
  });

  it('the currency field wins over the text', () => {
    const page = { data: [{ name: 'X', at: '2026-07-04T21:00:00Z', price: '12 €', cur: 'usd' }] };
    const config = {
      items: 'data',
      fields: { title: 'name', start: 'at', minPrice: 'price', currency: 'cur' },
    };
    expect(json(page, config).events[0]).toMatchObject({ minPrice: '12.00', currency: 'USD' });
  });
});

describe('configs with keys a kind does not know', () => {
  const minimal: Record<string, Record<string, unknown>> = {
    'fever-xml': {},
    'jsonld-html': {},
    'xml-feed': {},
    'html-selectors': { items: '.e', fields: { title: 'h', start: 't' } },
    'json-api': { items: 'e', fields: { title: 'n', start: 'd' } },
  };

  it.each(providerKinds().map((kind) => [kind.kind]))('%s refuses one, naming it', (kind) => {
    const config = { ...minimal[kind], dedupekey: 'isrc' };
    expect(() => parseProviderConfig(getProviderKind(kind), config)).toThrow(
      `invalid ${kind} config: (config): Unrecognized key: "dedupekey"`,
    );
  });

  it.each(presets().map((preset) => [preset.name, preset.kind]))(
    'preset %s refuses one, naming it',
    (name, kind) => {
      expect(() =>
        parseProviderConfig(getProviderKind(kind), { preset: name, priceLocal: 'es' }),
      ).toThrow('Unrecognized key: "priceLocal"');
    },
  );

  it('names nested keys, a bad locale, and a dedupeKey where the kind has none', () => {
    const kind = getProviderKind('json-api');
    expect(() =>
      parseProviderConfig(kind, {
        ...minimal['json-api'],
        dedupeKey: { template: 'x', path: 'y' },
      }),
    ).toThrow('dedupeKey: Unrecognized key: "path"');
    expect(() => parseProviderConfig(kind, { ...minimal['json-api'], priceLocale: 'xx' })).toThrow(
      'priceLocale: must be a locale, e.g. es, de, en, fr, ca, de-CH',
    );
    expect(() => parseProviderConfig(getProviderKind('fever-xml'), { dedupeKey: 'id' })).toThrow(
      'Unrecognized key: "dedupeKey"',
    );
  });
});
