import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EventRecord } from '@marquee/event-model';
import { databaseStackFor, eventRecord, feverProvider } from '@marquee/testing';

const stack = databaseStackFor('event-repo', { beforeAll, afterAll });

const record = (over: Partial<EventRecord> = {}): EventRecord =>
  eventRecord({
    externalKey: '1/1',
    startsAt: new Date('2021-06-30T21:00:00Z'),
    endsAt: new Date('2021-06-30T22:00:00Z'),
    minPrice: '15.00',
    maxPrice: '30.00',
    ...over,
  });

describe('EventRepository.upsertMany', () => {
  it('inserts, skips unchanged rows, rewrites changed ones and never un-sets ever_online', async () => {
    const provider = await stack.providers.create(
      feverProvider('p1', 'http://127.0.0.1/x', { everySeconds: 60 }),
    );
    const events = stack.events;
    const now = new Date();
    expect(
      await events.upsertMany(provider, [record(), record({ externalKey: '1/2' })], now),
    ).toEqual({ written: 2 });
    expect(
      await events.upsertMany(provider, [record(), record({ externalKey: '1/2' })], now),
    ).toEqual({ written: 0 });
    expect(
      await events.upsertMany(provider, [record({ online: false, title: 'Renamed' })], now),
    ).toEqual({ written: 1 });
    const row = await stack.db.event.findFirstOrThrow({ where: { externalKey: '1/1' } });
    expect(row).toMatchObject({ title: 'Renamed', online: false, everOnline: true });
    const json = JSON.parse(await events.searchJson({})) as unknown[];
    expect(json).toHaveLength(2);
    expect(json[0]).toEqual({
      id: row.id,
      title: 'Renamed',
      start_date: '2021-06-30',
      start_time: '21:00:00',
      end_date: '2021-06-30',
      end_time: '22:00:00',
      min_price: 15,
      max_price: 30,
    });
  });
});

describe('EventRepository.markSeen', () => {
  it('refreshes only rows last seen over half the granularity ago; rows the upsert writes are seen', async () => {
    const provider = await stack.providers.create(
      feverProvider('seen', 'http://127.0.0.1/seen', { everySeconds: 60 }),
    );
    const events = stack.events;
    const at = (minutes: number) => new Date(Date.UTC(2030, 0, 1) + minutes * 60_000);
    const keys = ['s/1', 's/2', 's/3'];
    const hour = 3_600_000;
    await events.upsertMany(
      provider,
      keys.map((externalKey) => record({ externalKey })),
      at(0),
    );
    // A changed row gets the upsert's time as its last seen.
    expect(
      await events.upsertMany(provider, [record({ externalKey: 's/1', title: 'New' })], at(40)),
    ).toEqual({ written: 1 });
    const lastSeen = async () =>
      (
        await stack.db.event.findMany({
          where: { providerId: provider.id },
          orderBy: { externalKey: 'asc' },
        })
      ).map((row) => row.lastSeenAt);

    expect(await lastSeen()).toEqual([at(40), at(0), at(0)]);
    // 40 minutes is over half an hour: s/2 and s/3 are refreshed, s/1 (just written) is not.
    expect(await events.markSeen(provider.id, keys, at(40), hour)).toBe(2);
    expect(await lastSeen()).toEqual([at(40), at(40), at(40)]);
    expect(await events.markSeen(provider.id, keys, at(70), hour)).toBe(0);
    expect(await events.markSeen(provider.id, keys, at(71), hour)).toBe(3);
    expect(await lastSeen()).toEqual([at(71), at(71), at(71)]);
  });
});

// Last: its rows would show up in the whole-catalog searches of the tests above.
describe('EventRepository.upsertMany, awkward values', () => {
  it('stores every value exactly, whatever characters it holds (rows travel as COPY text)', async () => {
    const provider = await stack.providers.create(
      feverProvider('literal', 'http://127.0.0.1/x', { everySeconds: 60 }),
    );
    const awkward = [
      'quote " and backslash \\ and \\"',
      '{braces}, commas, and ""',
      'NULL',
      '',
      ' padded ',
      'line\nbreak\ttab',
      'ünïcödé ✓ 🎸',
      // COPY's own escapes and markers, as text.
      '\\N',
      '\\.',
      '\\.\n\\.',
      'a\\tb\\nc\\\\',
      'carriage\r\nreturn\r',
      '\t',
    ];
    const events = stack.events;
    await events.upsertMany(
      provider,
      awkward.map((text, index) =>
        record({
          externalKey: `k-${text}-${index}`,
          title: text,
          url: `https://example.com/${index}?q=${text}`,
          venue: {
            name: text,
            address: null,
            city: text,
            country: null,
            lat: index === 0 ? -0.5 : null,
            lon: 1e-7,
          },
          performers: [text, `${text}"`, '\\'],
          minPrice: index === 3 ? null : '0.10',
        }),
      ),
      new Date(),
    );
    const rows = await stack.db.event.findMany({
      where: { providerId: provider.id },
      orderBy: { externalKey: 'asc' },
    });
    const byIndex = new Map(rows.map((row) => [Number(row.externalKey.split('-').at(-1)), row]));
    awkward.forEach((text, index) => {
      const row = byIndex.get(index);
      expect(row).toMatchObject({
        externalKey: `k-${text}-${index}`,
        title: text,
        url: `https://example.com/${index}?q=${text}`,
        venueName: text,
        venueCity: text,
        venueLat: index === 0 ? -0.5 : null,
        venueLon: 1e-7,
        performers: [text, `${text}"`, '\\'],
      });
      expect(row?.minPrice === null ? null : String(row?.minPrice)).toBe(
        index === 3 ? null : '0.1',
      );
    });
  });
});
