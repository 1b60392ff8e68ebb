// Every real third-party payload in fixtures/real (see its SOURCES.md) read by the kind or preset
// a user would pick for it; counts and sample values are the ones SOURCES.md reads off the files.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import type { EventRecord } from '@marquee/event-model';
import {
  jsonApi,
  loadHtml,
  parseJsonldPage,
  parseJsonPage,
  parseProviderConfig,
  parseXmlFeed,
  ParseResultBuilder,
  xmlFeed,
  type ParseResult,
} from '../src/index.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'real');
const file = (path: string) => readFileSync(join(fixtures, path));

function html(name: string, timezone = 'Europe/London'): ParseResult {
  return parseJsonldPage(loadHtml(file(`html/${name}`)), {
    timezone,
    baseUrl: 'https://site.example/',
  });
}

function json(name: string, config: Record<string, unknown>, timezone = 'UTC'): ParseResult {
  const result = new ParseResultBuilder();
  parseJsonPage(
    JSON.parse(file(`json/${name}`).toString('utf8')),
    parseProviderConfig(jsonApi, config),
    { timezone },
    result,
  );
  return result.build();
}

function xml(name: string, config: Record<string, unknown>, timezone = 'UTC'): ParseResult {
  return parseXmlFeed(file(`xml/${name}`), parseProviderConfig(xmlFeed, config), { timezone });
}

function byTitle(result: ParseResult, title: string): EventRecord[] {
  return result.events.filter((event) => event.title === title);
}

function one(result: ParseResult, title: string): EventRecord {
  const found = byTitle(result, title);
  expect(found).toHaveLength(1);
  return found[0] as EventRecord;
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

describe('jsonld-html on real pages', () => {
  it('songkick gigography: 49 MusicEvents, offsets without colon, date-only festivals', () => {
    const result = html('songkick_maximo-park_gigography_2015.html');
    expect(result).toMatchObject({ fetched: 49, rejected: 0 });
    expect(new Set(result.events.map((event) => event.url)).size).toBe(49);
    const first = result.events[0] as EventRecord;
    expect(first).toMatchObject({
      title: 'BBC Radio 6 Music Festival 2015',
      allDay: true,
      minPrice: null,
      maxPrice: null,
      venue: { name: 'BBC Radio 6 Music Festival 2015', city: 'Newcastle Upon Tyne' },
    });
    // Date-only values are dates at local midnight; the end date is inclusive.
    expect(iso(first.startsAt)).toBe('2015-02-20T00:00:00.000Z');
    expect(iso(first.endsAt)).toBe('2015-02-22T23:59:59.999Z');
    const last = result.events.at(-1) as EventRecord;
    expect(last).toMatchObject({ title: 'Maxïmo Park', allDay: false, endsAt: null });
    expect(last.venue).toMatchObject({ name: 'O2 Academy Leeds', city: 'Leeds' });
    expect(iso(last.startsAt)).toBe('2014-03-13T19:00:00.000Z');
    const boston = one(result, 'Boston Calling Music Festival 2014');
    expect(iso(boston.startsAt)).toBe('2014-05-24T03:59:20.000Z'); // "…23:59:20-0400"
    const gaswerk = result.events.find((event) => event.venue?.name === 'Gaswerk Kulturzentrum');
    expect(iso(gaswerk?.startsAt ?? null)).toBe('2014-10-24T21:00:00.000Z');
    expect(result.events.some((event) => event.venue?.name?.includes('Schüür'))).toBe(true);
  });

  it('songkick tour dates: 13 events (not the MusicGroup or the microdata Review), performers', () => {
    const result = html('songkick_years-and-years_tour-dates_2015.html');
    expect(result).toMatchObject({ fetched: 13, rejected: 0 });
    const cliffs = result.events.find((event) => event.venue?.name === 'Cliffs Pavillion');
    expect(cliffs).toMatchObject({
      title: 'Years & Years',
      performers: ['Years & Years', 'Shamir'],
      venue: { city: 'Westcliff-on-sea' },
    });
    expect(iso(cliffs?.startsAt ?? null)).toBe('2015-10-26T19:00:00.000Z');
    // Same venue, same day: a concert and a festival appearance, two events.
    const manchester = result.events.filter((event) => event.venue?.name === 'Victoria Warehouse');
    expect(manchester.map((event) => [iso(event.startsAt), event.allDay]).sort()).toEqual([
      ['2015-10-31T00:00:00.000Z', true],
      ['2015-10-31T18:00:00.000Z', false],
    ]);
  });

  it('songkick concert page: one event at +0100', () => {
    const result = html('songkick_tove-styrke_concert_2017.html');
    expect(result.events).toHaveLength(1);
    const event = result.events[0] as EventRecord;
    expect(event).toMatchObject({
      title: 'Tove Styrke',
      endsAt: null,
      minPrice: null,
      performers: ['Tove Styrke', 'Geowulf'],
      venue: { name: 'Hoxton Square Bar & Kitchen', city: 'London' },
    });
    expect(iso(event.startsAt)).toBe('2017-06-12T19:00:00.000Z');
  });

  it('bandsintown: 4 MusicEvents among Reviews; local times read in the provider zone', () => {
    const result = html('bandsintown_vulvodynia_artist_2025.html', 'Europe/London');
    expect(result).toMatchObject({ fetched: 4, rejected: 0 });
    const first = result.events[0] as EventRecord;
    expect(first).toMatchObject({
      title: 'Vulvodynia @ O2 Academy Islington',
      timezone: 'Europe/London',
      minPrice: null, // an offer without a price is an unknown price, not 0
      maxPrice: null,
      performers: ['Vulvodynia'],
      venue: { name: 'O2 Academy Islington', city: 'London', country: 'United Kingdom' },
    });
    expect(iso(first.startsAt)).toBe('2025-11-25T18:00:00.000Z'); // GMT in November
    const last = result.events.at(-1) as EventRecord;
    expect(last).toMatchObject({
      title: 'Vulvodynia @ Rock Café',
      venue: { city: 'Praha 1', country: 'Czech Republic' },
    });
  });

  it('meetup group and event pages: the same instant from "…000Z" and "-07:00"', () => {
    const group = html('meetup_python-spokane_group_2024.html');
    expect(group).toMatchObject({ fetched: 4, rejected: 0 });
    expect(byTitle(group, 'Monthly Meetup 🐍')).toHaveLength(2);
    const page = html('meetup_python-spokane_event_2024.html');
    expect(page.events).toHaveLength(1);
    const fromPage = page.events[0] as EventRecord;
    const fromGroup = one(group, 'Dagger with Spokane Tech 🚀');
    expect(fromPage).toMatchObject({
      url: 'https://www.meetup.com/python-spokane/events/298213205/',
      venue: { name: 'IntelliTect', city: 'Spokane' },
    });
    expect(iso(fromPage.startsAt)).toBe('2024-03-20T01:00:00.000Z');
    expect(iso(fromPage.endsAt)).toBe('2024-03-20T02:30:00.000Z');
    expect(iso(fromGroup.startsAt)).toBe(iso(fromPage.startsAt));
    expect(fromGroup.venue?.name).toBe('IntelliTect');
  });

  it('heavymetal.dk: 118 microdata events, dates only, venue from the Place text', () => {
    const result = html('heavymetal-dk_koncertkalender_2025-12.html', 'Europe/Copenhagen');
    expect(result).toMatchObject({ fetched: 118, rejected: 0 });
    expect(result.events.filter((event) => event.endsAt !== null)).toHaveLength(3);
    expect(result.events.every((event) => event.allDay)).toBe(true);
    const first = result.events[0] as EventRecord;
    expect(first).toMatchObject({
      title: 'Radiohead',
      venue: { name: 'Royal Arena, København S' },
    });
    expect(iso(first.startsAt)).toBe('2025-12-14T23:00:00.000Z'); // midnight in Copenhagen
    const copenhell = result.events.find((event) => event.title.startsWith('COPENHELL 2026'));
    expect(copenhell?.title).toBe(
      'COPENHELL 2026: Iron Maiden, Twisted Sister, Bring Me The Horizon, Alice Cooper, Anthrax, m.fl.',
    );
    expect(copenhell?.venue?.name).toBe('Refshaleøen, København K');
    expect(iso(copenhell?.startsAt ?? null)).toBe('2026-06-23T22:00:00.000Z');
    expect(iso(copenhell?.endsAt ?? null)).toBe('2026-06-27T21:59:59.999Z');
    expect(result.events.at(-1)?.title).toBe('Orden Ogan');
  });

  it('degc.org (Tribe): 12 events, HTML entities decoded, cancellation read from the title', () => {
    const result = html('degc-detroit_events_tribe_2022.html', 'America/Detroit');
    expect(result).toMatchObject({ fetched: 12, rejected: 0 });
    const first = result.events[0] as EventRecord;
    expect(first).toMatchObject({
      title: 'NDC Regular Meeting',
      url: 'https://www.degc.org/event/ndc-regular-meeting-2022-06-28/',
      venue: null,
      performers: [], // "performer": "Organization" is a type name, not a performer
    });
    expect(iso(first.startsAt)).toBe('2022-06-28T12:45:00.000Z');
    expect(iso(first.endsAt)).toBe('2022-06-28T13:45:00.000Z');
    const edc = byTitle(result, 'EDC Regular Board Meeting').map((event) => iso(event.startsAt));
    expect(edc).toContain('2022-07-12T09:00:00.000Z'); // the (wrong) offset as written
    expect(one(result, 'DDA Regular Board Meeting–CANCELLED').status).toBe('cancelled');
    expect(one(result, 'DBRA-CAC Regular Meeting – CANCELLED').status).toBe('cancelled');
    const withVenue = result.events.filter((event) => event.venue !== null);
    expect(withVenue.map((event) => [event.title, event.venue?.name])).toEqual([
      ['DBRA Regular Meeting', 'Zoom'],
    ]);
  });
});

describe('json-api presets on real API responses', () => {
  it('ticketmaster (size=1): no time is an all-day date in the event zone, no price is null', () => {
    const result = json('ticketmaster_discovery-v2_events_size1.json', {
      preset: 'ticketmaster-discovery',
    });
    expect(result.events).toHaveLength(1);
    const event = result.events[0] as EventRecord;
    expect(event).toMatchObject({
      externalKey: 'vvG1VZKS5pr1qy',
      title: 'WGC Cadillac Championship - Sunday Ticket',
      allDay: true,
      timezone: 'America/New_York',
      minPrice: null,
      maxPrice: null,
      venue: { name: 'Trump National Doral', city: 'Miami' },
    });
    expect(iso(event.startsAt)).toBe('2016-03-06T05:00:00.000Z');
  });

  it('ticketmaster (nock recording, wrapped): 20 events, 13 with prices', () => {
    const result = json('ticketmaster_discovery-v2_events_page0_nock-recording.json', {
      preset: 'ticketmaster-discovery',
      items: '0.response._embedded.events',
    });
    expect(result).toMatchObject({ fetched: 20, rejected: 0 });
    expect(result.events.filter((event) => event.minPrice !== null)).toHaveLength(13);
    expect(result.events.filter((event) => event.venue === null)).toHaveLength(5);
    expect(one(result, 'Chicago Architecture Foundation River Cruise')).toMatchObject({
      allDay: true,
      minPrice: '23.66',
      maxPrice: '43.53',
      currency: 'USD',
    });
    const last = result.events.at(-1) as EventRecord;
    expect(last).toMatchObject({
      title: 'Susquehanna Breakdown RV Pass',
      minPrice: '125.00',
      maxPrice: '150.00',
      currency: 'USD',
      venue: { name: 'The Pavilion at Montage Mountain', city: 'Scranton' },
    });
    expect(iso(last.startsAt)).toBe('2016-05-20T21:00:00.000Z'); // 17:00 in New York
  });

  it('songkick artist calendar (old format): 20 events from date + time, null time kept as a date', () => {
    const result = json(
      'songkick_artist-calendar_taylor-swift_2010.json',
      { preset: 'songkick' },
      'America/New_York',
    );
    expect(result).toMatchObject({ fetched: 20, rejected: 0 });
    const first = result.events[0] as EventRecord;
    expect(first).toMatchObject({
      title: 'Taylor Swift and Kellie Pickler with Gloriana at Rupp Arena (April 29, 2010)',
      venue: { name: 'Rupp Arena', city: 'Lexington, KY, US' },
      status: 'scheduled',
    });
    expect(iso(first.startsAt)).toBe('2010-04-29T23:00:00.000Z');
    const gillette = result.events.filter((event) => event.venue?.name === 'Gillette Stadium');
    expect(gillette.map((event) => event.allDay).sort()).toEqual([false, true]);
    expect(result.events.some((event) => event.venue?.name === 'ScotiaBank Place')).toBe(true);
  });

  it('songkick user calendar: events inside calendar entries, "-0600" offsets', () => {
    const result = json('songkick_user-calendar_2013.json', { preset: 'songkick' });
    expect(result.events).toHaveLength(2);
    const first = result.events[0] as EventRecord;
    expect(first).toMatchObject({
      title: 'Oceano with Reflections, Sworn In, and Adestria at The Garage (August 19, 2013)',
      venue: { name: 'The Garage', city: 'Burnsville, MN, US' },
    });
    expect(iso(first.startsAt)).toBe('2013-08-19T23:30:00.000Z');
  });

  it('bandsintown: 6 events, title built from artist and venue, string coordinates', () => {
    const result = json(
      'bandsintown_artist-events_jojo_2024.json',
      { preset: 'bandsintown' },
      'Europe/Helsinki',
    );
    expect(result).toMatchObject({ fetched: 6, rejected: 0 });
    const first = result.events[0] as EventRecord;
    expect(first).toMatchObject({
      title: 'JoJo @ Kultturitalo Valve, Valvesali',
      endsAt: null, // ends_at ""
      minPrice: null,
      venue: {
        name: 'Kultturitalo Valve, Valvesali',
        city: 'Oulu',
        country: 'Finland',
        lat: 65.01236,
      },
    });
    expect(iso(first.startsAt)).toBe('2024-05-15T07:15:00.000Z');
  });

  it('eventbrite: local start in the event zone, is_free is a known price of 0', () => {
    const result = json('eventbrite_organizer-events_2024.json', { preset: 'eventbrite' });
    expect(result.events).toHaveLength(1);
    const event = result.events[0] as EventRecord;
    expect(event).toMatchObject({
      title: '3rd Annual - INCH360 Regional Cybersecurity Conference',
      timezone: 'America/Los_Angeles',
      minPrice: '0.00',
      maxPrice: '0.00',
      currency: 'USD',
      venue: null, // only a venue_id without expand=venue
    });
    expect(iso(event.startsAt)).toBe('2024-10-02T15:30:00.000Z');
    expect(iso(event.endsAt)).toBe('2024-10-02T23:00:00.000Z');
  });

  it('discogs release: not an event; its "1999-03-00" date is rejected with the reason', () => {
    const result = json('discogs_release_1.json', {
      items: '$',
      fields: { id: 'id', title: 'title', start: 'released' },
    });
    expect(result).toMatchObject({ fetched: 1, rejected: 1, events: [] });
    expect(result.rejects[0]).toEqual({
      key: '1',
      reason: 'start: unreadable date "1999-03-00"',
    });
  });
});

describe('xml-feed on real XML', () => {
  it('last.fm geo.getEvents: RFC 822 dates without zone, geo: coordinates, 10 artists', () => {
    const result = xml(
      'lastfm_geo-getevents_denver_2011.xml',
      { preset: 'lastfm-events' },
      'America/Denver',
    );
    expect(result.events).toHaveLength(1);
    const event = result.events[0] as EventRecord;
    expect(event).toMatchObject({
      title: 'Transistor Festival',
      venue: { name: 'The Walnut Room', city: 'Denver, CO', lat: 39.764316 },
    });
    expect(event.performers).toHaveLength(10);
    expect(iso(event.startsAt)).toBe('2011-06-10T07:58:01.000Z');
    expect(iso(event.endsAt)).toBe('2011-06-12T07:58:01.000Z');
  });

  it('last.fm artist.getEvents and event.getInfo (no <events> wrapper)', () => {
    const cher = xml(
      'lastfm_artist-getevents_cher_2010.xml',
      { preset: 'lastfm-events' },
      'America/Los_Angeles',
    );
    expect(cher.events).toHaveLength(1);
    expect(cher.events[0]).toMatchObject({
      title: 'Cher',
      venue: { name: 'The Colosseum At Caesars Palace', city: 'Las Vegas(, NV)' },
    });
    expect(iso(cher.events[0]?.startsAt ?? null)).toBe('2010-10-24T02:30:00.000Z');
    const neko = xml(
      'lastfm_event-getinfo_neko-case_2009.xml',
      { preset: 'lastfm-events' },
      'America/Chicago',
    );
    expect(neko.events).toHaveLength(1);
    expect(neko.events[0]).toMatchObject({
      externalKey: '1073657',
      title: 'Neko Case',
      url: 'http://www.last.fm/event/1073657',
      venue: { name: 'Ryman Auditorium', city: 'Nashville' },
    });
    expect(iso(neko.events[0]?.startsAt ?? null)).toBe('2009-07-26T01:00:00.000Z');
  });

  it('boarddocs (2.6 MB): 250 meetings by attribute id, the meeting-level <name> only', () => {
    const started = performance.now();
    const result = xml(
      'boarddocs_cleveland-schools_meetings_large.xml',
      { items: 'meetings.meeting', fields: { id: '@id', title: 'name', startDate: 'start.date' } },
      'America/New_York',
    );
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ fetched: 250, rejected: 0 });
    const first = result.events[0] as EventRecord;
    expect(first).toMatchObject({
      externalKey: 'AHJRW76D1F43',
      title: 'Cleveland Municipal School District Board Business Meeting - 6:30 PM',
      allDay: true,
    });
    expect(iso(first.startsAt)).toBe('2017-01-24T05:00:00.000Z');
    // ~2 s on an idle core; the bound only catches a pathological slowdown on a loaded machine.
    expect(elapsed).toBeLessThan(30_000);
  }, 60_000);

  it('markus cinema schedule: 4 shows; a 0001-01-01 placeholder end is dropped, as a start rejected', () => {
    const fields = { id: 'ID', title: 'Title', start: 'dttmShowStart', end: 'dttmShowEndUTC' };
    const result = xml(
      'markus_forumcinemas-lv_schedule_2014.xml',
      { items: 'Schedule.Shows.Show', fields: { ...fields, venueName: 'Theatre' } },
      'Europe/Riga',
    );
    expect(result).toMatchObject({ fetched: 4, rejected: 0 });
    const first = result.events[0] as EventRecord;
    expect(first).toMatchObject({
      externalKey: '190912',
      title: 'Rio 2',
      endsAt: null,
      venue: { name: 'Kino Citadele' },
    });
    expect(iso(first.startsAt)).toBe('2014-04-27T07:30:00.000Z'); // 10:30 in Riga = the UTC field
    const placeholder = xml(
      'markus_forumcinemas-lv_schedule_2014.xml',
      { items: 'Schedule.Shows.Show', fields: { ...fields, start: 'dttmShowEndUTC' } },
      'Europe/Riga',
    );
    expect(placeholder).toMatchObject({ fetched: 4, rejected: 4, events: [] });
    expect(placeholder.rejects[0]?.reason).toBe('start: placeholder date "0001-01-01T00:00:00"');
  });
});
