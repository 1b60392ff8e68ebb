// The event details (venue, url, performers, status, all-day) written by upsertMany.
import { createHash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { contentHash, eventId, type EventRecord } from '@marquee/event-model';
import { databaseStackFor, eventRecord, feverProvider } from '@marquee/testing';

const stack = databaseStackFor('event-details', { beforeAll, afterAll });

const plain = eventRecord({ startsAt: new Date('2026-06-30T00:00:00Z') });

const detailed: EventRecord = {
  ...plain,
  allDay: true,
  url: 'https://venue.example/e/1',
  venue: {
    name: 'Sala Sol',
    address: 'Calle 1',
    city: 'Madrid',
    country: 'ES',
    lat: 40.4,
    lon: -3.7,
  },
  performers: ['Band A', 'Band "B", Jr.'],
  status: 'postponed',
};

describe('event details', () => {
  it('an event without details keeps the hash it had before details existed', () => {
    const legacy = createHash('sha256')
      .update(
        JSON.stringify(['A show', '2026-06-30T00:00:00.000Z', null, 'UTC', null, null, null, true]),
      )
      .digest('base64url');
    expect(contentHash(plain)).toBe(legacy);
    expect(contentHash(detailed)).not.toBe(legacy);
    expect(contentHash({ ...detailed, performers: ['Band A'] })).not.toBe(contentHash(detailed));
  });

  it('public event ids never change (uuid v5 of provider and key, pinned)', () => {
    expect(eventId('fever', '291/1')).toBe('b9e9740d-1087-51a2-80a2-6fbd1b1f4e84');
    // The same as the reference implementation on keys of every shape, including every value of
    // the digits that carry the version and the variant.
    const namespace = '1b4f0f9e-8d51-4c55-9a53-5b0e2c7d9a10';
    const keys = [
      '',
      ' ',
      'ünïcödé ✓ 🎸',
      'a\nb',
      '"quoted"',
      'x'.repeat(300),
      'ü'.repeat(3_000),
      'k',
    ];
    for (let index = 0; index < 2_000; index += 1) keys.push(`${index}/${index * 7919}`);
    const variants = new Set<string>();
    for (const key of keys) {
      const id = eventId('provider ü', key);
      expect(id).toBe(uuidv5(`provider ü\n${key}`, namespace));
      variants.add(id.charAt(19));
    }
    expect([...variants].sort()).toEqual(['8', '9', 'a', 'b']);
  });

  it('are stored, rewritten when they change, and left alone when they do not', async () => {
    const provider = await stack.providers.create(
      feverProvider('details', 'https://venue.example/', { everySeconds: 60, kind: 'jsonld-html' }),
    );
    const events = stack.events;
    const read = () =>
      stack.db.$queryRaw<Record<string, unknown>[]>`
        SELECT all_day, url, venue_name, venue_address, venue_city, venue_country, venue_lat,
          venue_lon, performers, status
        FROM events WHERE external_key = 'k1'`;
    expect(await events.upsertMany(provider, [detailed], new Date())).toEqual({ written: 1 });
    expect(await read()).toEqual([
      {
        all_day: true,
        url: 'https://venue.example/e/1',
        venue_name: 'Sala Sol',
        venue_address: 'Calle 1',
        venue_city: 'Madrid',
        venue_country: 'ES',
        venue_lat: 40.4,
        venue_lon: -3.7,
        performers: ['Band A', 'Band "B", Jr.'],
        status: 'postponed',
      },
    ]);
    expect(await events.upsertMany(provider, [detailed], new Date())).toEqual({ written: 0 });
    expect(await events.upsertMany(provider, [plain], new Date())).toEqual({ written: 1 });
    expect(await read()).toEqual([
      {
        all_day: false,
        url: null,
        venue_name: null,
        venue_address: null,
        venue_city: null,
        venue_country: null,
        venue_lat: null,
        venue_lon: null,
        performers: [],
        status: null,
      },
    ]);
  });
});
