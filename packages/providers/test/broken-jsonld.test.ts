// JSON-LD as real sites break it, and how events are found in it.
import { describe, expect, it } from '@jest/globals';
import { load } from 'cheerio';
import { parseJsonldPage, parseLenientJson } from '../src/index.ts';

const page = (...blocks: string[]) =>
  load(
    `<html><head>${blocks
      .map((block) => `<script type="application/ld+json">${block}</script>`)
      .join('')}</head><body></body></html>`,
  );

const parse = (...blocks: string[]) =>
  parseJsonldPage(page(...blocks), {
    timezone: 'Europe/Madrid',
    baseUrl: 'https://venue.example/',
  });

describe('lenient JSON-LD', () => {
  it('repairs invalid escapes, trailing commas, raw control characters and comment wrappers', () => {
    // An invalid escape stands for the character itself.
    expect(parseLenientJson('{"name": "Rock \\\' Roll \\- Night", "a": [1, 2,],}')).toEqual({
      name: "Rock ' Roll - Night",
      a: [1, 2],
    });
    // Raw line breaks and tabs are kept (text fields collapse whitespace); other control
    // characters are dropped, NUL included (PostgreSQL text cannot hold it).
    expect(parseLenientJson('<!-- {"name": "two\nlines\ttab\u0001\u0000"} -->')).toEqual({
      name: 'two\nlines\ttab',
    });
    expect(parseLenientJson('{"a": 1}{"b": 2}')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(parseLenientJson("{'name': 'single', url: '/s'}")).toEqual({
      name: 'single',
      url: '/s',
    });
    // "\u" without four hex digits is a backslash and a "u"; an escaped backslash stays one.
    expect(parseLenientJson('{"a": "\\u12 z", "b": "\\\\u12", "c": "\\u00e9",}')).toEqual({
      a: '\\u12 z',
      b: '\\u12',
      c: 'é',
    });
  });

  it('reads nothing from a block cut off before its end', () => {
    expect(parseLenientJson('{"name": ')).toBeUndefined();
    expect(parseLenientJson('{"@type": "Event", "name": "Gig", "location": {"name": "Sala')).toBe(
      undefined,
    );
    expect(parseLenientJson('[{"@type": "Event", "name": "Gig"},')).toBeUndefined();
  });

  it('finds every Event subtype in arrays, @graph and nested nodes, and nothing else', () => {
    const result = parse(
      JSON.stringify([
        { '@type': 'MusicEvent', name: 'A', startDate: '2026-01-01T20:00', url: '/a' },
        { '@type': 'Review', name: 'not an event' },
      ]),
      JSON.stringify({
        '@context': 'https://schema.org',
        '@graph': [
          { '@type': 'Organization', name: 'Venue Org' },
          { '@type': ['Festival'], name: 'B', startDate: '2026-07-01', url: '/b' },
          {
            '@type': 'MusicGroup',
            name: 'Band',
            event: [
              {
                '@type': 'http://schema.org/SportsEvent',
                name: 'C',
                startDate: '2026-02-01T18:00:00Z',
                url: '/c',
              },
            ],
          },
        ],
      }),
      // Festival with a sub-event, and the same node again in another block: read once.
      JSON.stringify({
        '@type': 'TheaterEvent',
        name: 'D',
        startDate: '2026-03-01T19:00:00+01:00',
        url: '/d',
        subEvent: {
          '@type': 'ComedyEvent',
          name: 'E',
          startDate: '2026-03-01T21:00:00+01:00',
          url: '/e',
        },
      }),
      JSON.stringify({
        '@type': 'MusicEvent',
        name: 'A',
        startDate: '2026-01-01T20:00',
        url: '/a',
      }),
    );
    expect(result.rejected).toBe(0);
    expect(result.events.map((event) => event.title).sort()).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(result.fetched).toBe(5);
  });

  it('decodes HTML entities inside strings and survives a broken block next to good ones', () => {
    const result = parse(
      '{"@type": "Event", "name": "Jazz &amp; Blues &#8211; CANCELLED", "startDate": "2026-05-01T20:00:00+0200", "url": "/j",}',
      '{"@type": "Event", "name": ',
      `{"@type": "Event", "name": "Line\nbreak \\' quote", "startDate": "2026-05-02", "url": "/k",
        "eventStatus": "https://schema.org/EventPostponed",
        "offers": [{"@type": "Offer", "price": "", "priceCurrency": "EUR"}],
        "location": {"@type": "Place", "name": "Sala &quot;Sol&quot;", "geo": {"latitude": 40.4, "longitude": "-3.7"}}}`,
    );
    expect(result.events).toHaveLength(2);
    expect(result.events[0]).toMatchObject({
      title: 'Jazz & Blues – CANCELLED',
      status: 'cancelled',
      url: 'https://venue.example/j',
    });
    expect(result.events[0]?.startsAt.toISOString()).toBe('2026-05-01T18:00:00.000Z');
    expect(result.events[1]).toMatchObject({
      title: "Line break ' quote",
      status: 'postponed',
      allDay: true,
      minPrice: null, // "price": "" is unknown, not 0
      currency: null,
      venue: { name: 'Sala "Sol"', lat: 40.4, lon: -3.7 },
    });
  });

  it('rejects an event with a placeholder date and one without a name, keeping the rest', () => {
    const result = parse(
      JSON.stringify([
        { '@type': 'Event', name: 'Old', startDate: '0001-01-01T00:00:00', url: '/old' },
        { '@type': 'Event', startDate: '2026-01-01', url: '/nameless' },
        { '@type': 'Event', name: 'Fine', startDate: '2026-01-01', url: '/fine' },
      ]),
    );
    expect(result.events.map((event) => event.title)).toEqual(['Fine']);
    expect(result.rejects.map((reject) => reject.reason)).toEqual([
      'start: placeholder date "0001-01-01T00:00:00"',
      'missing title',
    ]);
  });
});
