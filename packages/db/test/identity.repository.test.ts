// Shared identity across providers on real PostgreSQL (docs/providers.md, "Cross-provider
// de-duplication"): equal codes are one event, an uncoded row joins the coded event its match key
// meets, different codes stay apart, venue names with a city suffix merge, stored rows get the
// current keys on their provider's next write, and the detail spans the sources' prices.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { canonicalKey, matchKey, venueForMatch, type Provider } from '@marquee/db';
import { eventId, normalizeDedupeKey, type EventRecord } from '@marquee/event-model';
import { databaseStackFor, eventRecord } from '@marquee/testing';

const stack = databaseStackFor('shared_identity', { beforeAll, afterAll });
let api: Provider;
let venue: Provider;
let page: Provider;

const START = new Date('2026-07-04T19:00:00Z');
const window = {
  startsAt: new Date('2026-07-01T00:00:00Z'),
  endsAt: new Date('2026-07-31T00:00:00Z'),
};

function record(key: string, extra: Partial<EventRecord> = {}): EventRecord {
  return eventRecord({
    externalKey: key,
    title: 'Rosalía',
    startsAt: START,
    timezone: 'Europe/Madrid',
    venue: {
      name: 'Palau Sant Jordi',
      address: null,
      city: null,
      country: null,
      lat: null,
      lon: null,
    },
    ...extra,
  });
}

const at = (iso: string) => new Date(iso);
const searchTitles = async (title: string) =>
  (JSON.parse(await stack.events.searchJson(window)) as { id: string; title: string }[]).filter(
    (event) => event.title === title,
  );

beforeAll(async () => {
  const provider = (name: string) =>
    stack.providers.create({
      name,
      kind: 'json-api',
      url: `https://${name}.example/`,
      everySeconds: 60,
      timezone: 'Europe/Madrid',
    });
  api = await provider('ticket-api');
  venue = await provider('venue-page');
  page = await provider('fan-page');
});

describe('shared codes', () => {
  it('equal codes of two providers are one event, whatever title and venue say', async () => {
    await stack.events.upsertMany(
      api,
      [
        record('tm-1', {
          title: 'ROSALÍA – MOTOMAMI World Tour',
          dedupeKey: 'ESA012400001',
          minPrice: '45.00',
          maxPrice: '120.00',
          currency: 'EUR',
          venue: {
            name: 'Palau St. Jordi',
            address: null,
            city: 'Barcelona',
            country: 'ES',
            lat: null,
            lon: null,
          },
        }),
      ],
      at('2026-05-01T10:00:00Z'),
    );
    await stack.events.upsertMany(
      venue,
      [
        record('v-1', {
          dedupeKey: 'ESA012400001',
          minPrice: '39.00',
          maxPrice: '95.00',
          currency: 'EUR',
        }),
      ],
      at('2026-05-01T11:00:00Z'),
    );
    const apiId = eventId('ticket-api', 'tm-1');
    const venueId = eventId('venue-page', 'v-1');
    const listed = JSON.parse(await stack.events.searchJson(window)) as { id: string }[];
    expect(listed.map((event) => event.id)).toEqual([apiId]);
    expect((await stack.events.searchPage({ ...window, limit: 10 })).map((row) => row.id)).toEqual([
      apiId,
    ]);
    for (const id of [apiId, venueId]) {
      const detail = await stack.events.findById(id);
      expect(detail?.id).toBe(id);
      expect(detail?.sources.map((source) => [source.provider, source.external_key])).toEqual([
        ['ticket-api', 'tm-1'],
        ['venue-page', 'v-1'],
      ]);
      // The least min and the greatest max of the sources.
      expect([detail?.min_price, detail?.max_price, detail?.currency]).toEqual([39, 120, 'EUR']);
    }
  });

  it('an uncoded row matching the coded event by title, venue and start joins it', async () => {
    await stack.events.upsertMany(
      page,
      [record('fan-1', { minPrice: '30.00', maxPrice: '30.00', currency: 'EUR' })],
      at('2026-04-01T00:00:00Z'),
    );
    // Seen first, yet the coded event represents it: the code adds merges, it takes none away.
    expect((await searchTitles('Rosalía')).map((event) => event.id)).toEqual([]);
    const listed = JSON.parse(await stack.events.searchJson(window)) as { id: string }[];
    expect(listed.map((event) => event.id)).toEqual([eventId('ticket-api', 'tm-1')]);
    const detail = await stack.events.findById(eventId('fan-page', 'fan-1'));
    expect(detail?.sources.map((source) => source.provider)).toEqual([
      'fan-page',
      'ticket-api',
      'venue-page',
    ]);
    expect([detail?.min_price, detail?.max_price]).toEqual([30, 120]);
    const coded = await stack.events.findById(eventId('ticket-api', 'tm-1'));
    expect(coded?.sources).toHaveLength(3);
    // A provider's own listing still shows its row.
    const own = await stack.events.searchPage({ ...window, provider: 'fan-page', limit: 10 });
    expect(own.map((row) => row.id)).toEqual([eventId('fan-page', 'fan-1')]);
  });

  it('two different codes stay two events, even with equal title, venue and start', async () => {
    const other = record('v-2', { title: 'Double bill', dedupeKey: 'ESA012400002' });
    const second = record('tm-2', { title: 'Double bill', dedupeKey: 'ESA012400003' });
    await stack.events.upsertMany(venue, [other], at('2026-05-02T00:00:00Z'));
    await stack.events.upsertMany(api, [second], at('2026-05-02T00:00:00Z'));
    expect(await searchTitles('Double bill')).toHaveLength(2);
  });

  it('a code never meets a match key, and codes compare as normalized', () => {
    const coded = record('x', { dedupeKey: 'X' });
    expect(canonicalKey(coded)).toBe('dedupe:X');
    expect(matchKey(coded)).toMatch(/^[\w-]{32}$/);
    expect(canonicalKey(record('x'))).toBe(matchKey(record('x')));
    expect(normalizeDedupeKey(' us-rc1-76-07839 ')).toEqual({ key: 'USRC17607839' });
    expect(normalizeDedupeKey('USRC17607839')).toEqual({ key: 'USRC17607839' });
    expect(normalizeDedupeKey('evt_AbC/12')).toEqual({ key: 'evt_AbC/12' });
    expect(normalizeDedupeKey('N/A')).toEqual({ problem: 'placeholder "N/A"' });
    expect(normalizeDedupeKey('000-000')).toEqual({ problem: 'placeholder "000-000"' });
    expect(normalizeDedupeKey('x'.repeat(201))).toEqual({ problem: 'longer than 200 characters' });
  });
});

describe('venue names with a city suffix', () => {
  it.each([
    ['Palau Sant Jordi (Barcelona)', null, 'palau sant jordi'],
    ['Sala Apolo - Barcelona', null, 'sala apolo'],
    ['Sala Apolo — Barcelona', 'Barcelona', 'sala apolo'],
    ['Razzmatazz, Barcelona', null, 'razzmatazz'],
    ['Razzmatazz Barcelona', 'Barcelona', 'razzmatazz'],
    ['Sala El Sol (Madrid)', 'Madrid', 'sala el sol'],
    ['Sala Apolo (Badalona)', 'Badalona', 'sala apolo'],
    ['Sala Apolo 2', 'Barcelona', 'sala apolo 2'],
    ['Sala Apolo (2)', 'Barcelona', 'sala apolo 2'],
    ['Razzmatazz Barcelona', null, 'razzmatazz barcelona'],
    ['Razzmatazz, Sala 2', 'Barcelona', 'razzmatazz sala 2'],
    ['Barcelona', 'Barcelona', 'barcelona'],
    ['(Barcelona)', null, 'barcelona'],
    ['Teatro Real - Calle de Felipe V', 'Madrid', 'teatro real calle de felipe v'],
  ])('%j in %j matches as %j', (name, city, expected) => {
    expect(venueForMatch(name, city)).toBe(expected);
  });

  it('merges the same venue with and without the suffix, not two venues', async () => {
    const at7 = (key: string, name: string, city: string | null = null) =>
      record(key, {
        title: `Night at ${key.split('-')[1] ?? ''}`,
        venue: { name, address: null, city, country: null, lat: null, lon: null },
      });
    await stack.events.upsertMany(
      api,
      [
        at7('a-palau', 'Palau Sant Jordi (Barcelona)'),
        at7('a-apolo', 'Sala Apolo - Barcelona'),
        at7('a-razz', 'Razzmatazz, Barcelona'),
        at7('a-apolo2', 'Sala Apolo 2', 'Barcelona'),
      ],
      at('2026-05-03T00:00:00Z'),
    );
    await stack.events.upsertMany(
      venue,
      [
        at7('b-palau', 'Palau Sant Jordi'),
        at7('b-apolo', 'Sala Apolo', 'Barcelona'),
        at7('b-razz', 'Razzmatazz Barcelona', 'Barcelona'),
        at7('b-apolo2', 'Sala Apolo', 'Barcelona'),
      ],
      at('2026-05-03T01:00:00Z'),
    );
    for (const night of ['palau', 'apolo', 'razz']) {
      const listed = await searchTitles(`Night at ${night}`);
      expect([night, listed.map((event) => event.id)]).toEqual([
        night,
        [eventId('ticket-api', `a-${night}`)],
      ]);
    }
    expect(await searchTitles('Night at apolo2')).toHaveLength(2);
  });
});

describe('stored rows and the current rules', () => {
  it("a row stored under an older key gets the current one at its provider's next write", async () => {
    const suffixed = record('old-1', {
      title: 'Old key',
      venue: {
        name: 'Palau Sant Jordi (Barcelona)',
        address: null,
        city: null,
        country: null,
        lat: null,
        lon: null,
      },
    });
    await stack.events.upsertMany(page, [suffixed], at('2026-05-04T00:00:00Z'));
    // As a row keyed before the suffix rule: its keys are what the old rule made of the name.
    await stack.db
      .$executeRaw`UPDATE events SET canonical_key = 'old-rule-key', match_key = 'old-rule-key'
      WHERE external_key = 'old-1'`;
    await stack.events.upsertMany(
      venue,
      [record('new-1', { title: 'Old key' })],
      at('2026-05-04T01:00:00Z'),
    );
    expect(await searchTitles('Old key')).toHaveLength(2);
    // Same content, new keys: the next write rewrites the row, and the pair is one event.
    expect(await stack.events.upsertMany(page, [suffixed], at('2026-05-04T02:00:00Z'))).toEqual({
      written: 1,
    });
    expect((await searchTitles('Old key')).map((event) => event.id)).toEqual([
      eventId('fan-page', 'old-1'),
    ]);
    expect(await stack.events.upsertMany(page, [suffixed], at('2026-05-04T03:00:00Z'))).toEqual({
      written: 0,
    });
  });
});
