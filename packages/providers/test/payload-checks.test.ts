// What a payload says about itself, against a real HTTP server on 127.0.0.1: a real RSS event
// feed read as UTF-8 whatever its declaration says, and as UTF-16 (with and without a byte order
// mark); an items path or selector that matches nothing is reported by name (`unmatched`), an
// items path that leads to an empty list is a provider with nothing on; a walk stopped at
// maxPages with more pages is `truncated`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFeedServer, type FeedServer } from '@marquee/testing';
import {
  htmlSelectors,
  jsonApi,
  parseProviderConfig,
  xmlFeed,
  type ProviderKind,
} from '../src/index.ts';
import { loopbackFetch } from './loopback.fetch.ts';

const FEED = readFileSync(
  join(import.meta.dirname, 'fixtures/real/xml/leinelab_php-icalendar_rss2_2015-01.xml'),
  'utf8',
);
const UTF16_DECLARED = `<?xml version="1.0" encoding="utf-16"?>\r\n${FEED}`;

const fetch = loopbackFetch;

/** Each path's body and content type. */
const BODIES: Record<string, [Buffer, string]> = {
  '/utf16-declared-utf8.xml': [Buffer.from(UTF16_DECLARED, 'utf8'), 'application/rss+xml'],
  '/utf16-bom.xml': [
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(UTF16_DECLARED, 'utf16le')]),
    'application/rss+xml',
  ],
  '/utf16-no-bom.xml': [Buffer.from(UTF16_DECLARED, 'utf16le'), 'application/xml'],
  '/utf16-be-header.xml': [
    Buffer.from(UTF16_DECLARED, 'utf16le').swap16(),
    'application/rss+xml; charset=utf-16',
  ],
  '/events.json': [
    Buffer.from(JSON.stringify({ data: { events: [] }, total: 0 })),
    'application/json',
  ],
  '/agenda.html': [
    Buffer.from('<html><body><div class="show">Jazz</div></body></html>'),
    'text/html',
  ],
  '/lfm.xml': [
    Buffer.from('<lfm status="ok"><events total="0"></events></lfm>'),
    'application/xml',
  ],
};

let server: FeedServer;

beforeAll(async () => {
  server = await startFeedServer((request, response) => {
    const found = BODIES[new URL(request.url ?? '/', 'http://x').pathname];
    if (!found) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': found[1] }).end(found[0]);
  });
});

afterAll(() => server.close());

function ingest<Config>(kind: ProviderKind<Config>, path: string, config: unknown) {
  return kind.ingest({
    url: `${server.url}${path}`,
    config: parseProviderConfig(kind, config),
    timezone: 'Europe/Berlin',
    fetch,
  });
}

describe('a real RSS event feed and its encodings', () => {
  it.each([
    '/utf16-declared-utf8.xml',
    '/utf16-bom.xml',
    '/utf16-no-bom.xml',
    '/utf16-be-header.xml',
  ])('%s: both events, read by the bytes', async (path) => {
    const result = await ingest(xmlFeed, path, {});
    expect(result).toMatchObject({ fetched: 2, rejected: 0 });
    expect(result.unmatched).toBeUndefined();
    expect(
      result.events.map((event) => [event.title, event.startsAt.toISOString(), event.venue?.name]),
    ).toEqual([
      ['Do Jan 1 2015: Un-Cloud yourself', '2015-01-01T18:00:00.000Z', 'LeineLab%2C+Glocksee'],
      ['Fr Jan 2 2015: Freitagstreff', '2015-01-02T17:00:00.000Z', 'LeineLab%2C+Glocksee'],
    ]);
  });
});

describe('an items path that matches nothing', () => {
  const fields = { id: 'id', title: 'name', start: 'date' };

  it('json-api: names the path; a path to an empty list is no events, not unmatched', async () => {
    const wrong = await ingest(jsonApi, '/events.json', { items: 'events', fields });
    expect(wrong).toMatchObject({ fetched: 0, unmatched: 'items path "events" matched nothing' });
    const several = await ingest(jsonApi, '/events.json', { items: ['results', 'rows'], fields });
    expect(several.unmatched).toBe('items paths "results", "rows" matched nothing');
    const empty = await ingest(jsonApi, '/events.json', { items: 'data.events', fields });
    expect(empty).toMatchObject({ fetched: 0 });
    expect(empty.unmatched).toBeUndefined();
  });

  it('xml-feed: names the path; an empty list element is no events', async () => {
    const wrong = await ingest(xmlFeed, '/lfm.xml', { items: 'lfm.concerts.event', fields });
    expect(wrong.unmatched).toBe('items path "lfm.concerts.event" matched nothing');
    const empty = await ingest(xmlFeed, '/lfm.xml', { items: 'lfm.events.event', fields });
    expect(empty).toMatchObject({ fetched: 0 });
    expect(empty.unmatched).toBeUndefined();
  });

  it('html-selectors: names the selector', async () => {
    const wrong = await ingest(htmlSelectors, '/agenda.html', {
      items: '.event',
      fields: { title: '.', start: '@data-date' },
    });
    expect(wrong.unmatched).toBe('items selector ".event" matched nothing');
  });
});
