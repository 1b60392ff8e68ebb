import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import type { EventRecord } from '@marquee/event-model';
import { parseFeverXml, PayloadError, type ParseResult } from '../src/index.ts';

const fever = { parse: parseFeverXml };

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../../samples/fixtures/fever/${name}`, import.meta.url));
const utc = { timezone: 'UTC' };
const madrid = { timezone: 'Europe/Madrid' };

function parse(xml: string | Buffer, ctx = utc): ParseResult {
  const result = fever.parse(typeof xml === 'string' ? Buffer.from(xml) : xml, ctx);
  expect(result.fetched).toBe(result.events.length + result.rejected);
  return result;
}

function byKey(result: ParseResult): Record<string, EventRecord> {
  return Object.fromEntries(result.events.map((event) => [event.externalKey, event]));
}

const event = (over: Partial<EventRecord> & Pick<EventRecord, 'externalKey'>): EventRecord => ({
  title: 'Camela en concierto',
  startsAt: new Date('2021-06-30T21:00:00Z'),
  endsAt: new Date('2021-06-30T22:00:00Z'),
  timezone: 'UTC',
  minPrice: '15.00',
  maxPrice: '30.00',
  currency: null,
  online: true,
  ...over,
});

const camela1 = event({ externalKey: '291/291' });
const pantomima = event({
  externalKey: '322/1642',
  title: 'Pantomima Full',
  startsAt: new Date('2021-02-10T20:00:00Z'),
  endsAt: new Date('2021-02-10T21:30:00Z'),
  minPrice: '55.00',
  maxPrice: '55.00',
});
const morancos1 = event({
  externalKey: '1591/1642',
  title: 'Los Morancos',
  startsAt: new Date('2021-07-31T20:00:00Z'),
  endsAt: new Date('2021-07-31T21:00:00Z'),
  minPrice: '65.00',
  maxPrice: '75.00',
});
const tributoReject = {
  key: '444/1642',
  reason:
    'invalid event_start_date "2021-09-31T20:00:00": you specified 31 (of type number) as a day, which is invalid',
};

/** A one-item eventList feed; `event` and `zones` are raw attribute/element text. */
function feed(
  eventAttributes: string,
  zones = '<zone zone_id="1" price="10.00"/>',
  baseAttributes = 'base_event_id="1" sell_mode="online" title="T"',
): string {
  return `<eventList><output><base_event ${baseAttributes}><event ${eventAttributes}>${zones}</event></base_event></output></eventList>`;
}
const okEvent =
  'event_id="2" event_start_date="2021-06-30T21:00:00" event_end_date="2021-06-30T22:00:00"';

describe('fever-xml: the three snapshots', () => {
  it('response_1: three events, all online, exact values in UTC', () => {
    const result = parse(fixture('response_1.xml'));
    expect(result).toEqual({
      fetched: 3,
      events: [camela1, pantomima, morancos1],
      rejects: [],
      rejected: 0,
    });
  });

  it('response_2: the 2021-09-31 event is rejected, the rest is ingested', () => {
    const result = parse(fixture('response_2.xml'));
    expect(result.fetched).toBe(3);
    expect(result.rejected).toBe(1);
    expect(result.rejects).toEqual([tributoReject]);
    expect(result.events).toEqual([
      camela1,
      { ...morancos1, endsAt: new Date('2021-07-31T21:20:00Z') },
    ]);
  });

  it('response_3: end times changed, the 2021-09-31 event is rejected', () => {
    const result = parse(fixture('response_3.xml'));
    expect(result).toEqual({
      fetched: 3,
      events: [{ ...camela1, endsAt: new Date('2021-06-30T21:30:00Z') }, morancos1],
      rejects: [tributoReject],
      rejected: 1,
    });
  });

  it('reads times without an offset in the provider timezone (Europe/Madrid, summer and winter)', () => {
    const events = byKey(parse(fixture('response_1.xml'), madrid));
    expect(events['291/291']).toMatchObject({
      timezone: 'Europe/Madrid',
      startsAt: new Date('2021-06-30T19:00:00Z'),
      endsAt: new Date('2021-06-30T20:00:00Z'),
    });
    expect(events['322/1642']).toMatchObject({
      startsAt: new Date('2021-02-10T19:00:00Z'),
      endsAt: new Date('2021-02-10T20:30:00Z'),
    });
    expect(events['1591/1642']).toMatchObject({
      startsAt: new Date('2021-07-31T18:00:00Z'),
      endsAt: new Date('2021-07-31T19:00:00Z'),
    });
  });

  it('keys events by base id and event id, since event ids repeat across base events', () => {
    expect(parse(fixture('response_1.xml')).events.map((e) => e.externalKey)).toEqual([
      '291/291',
      '322/1642',
      '1591/1642',
    ]);
  });

  it('takes min and max over all zones, including a repeated zone_id', () => {
    const events = byKey(parse(fixture('response_1.xml')));
    expect(events['291/291']).toMatchObject({ minPrice: '15.00', maxPrice: '30.00' });
    expect(events['1591/1642']).toMatchObject({ minPrice: '65.00', maxPrice: '75.00' });
    expect(events['322/1642']).toMatchObject({ minPrice: '55.00', maxPrice: '55.00' });
  });

  it('keeps an offline event with online=false (444 with its date fixed)', () => {
    const xml = fixture('response_2.xml').toString('utf8').replaceAll('2021-09-31', '2021-09-30');
    const result = parse(xml);
    expect(result.rejected).toBe(0);
    expect(byKey(result)['444/1642']).toEqual(
      event({
        externalKey: '444/1642',
        title: 'Tributo a Juanito Valderrama',
        startsAt: new Date('2021-09-30T20:00:00Z'),
        endsAt: new Date('2021-09-30T21:00:00Z'),
        minPrice: '65.00',
        maxPrice: '65.00',
        online: false,
      }),
    );
    expect(byKey(result)['291/291']?.online).toBe(true);
  });
});

describe('fever-xml: planList form', () => {
  it('gives exactly the same result as the eventList form of the same data (response_3)', () => {
    for (const ctx of [utc, madrid]) {
      const plan = parse(fixture('plans.xml'), ctx);
      const reject = {
        key: '444/1642',
        reason: tributoReject.reason.replace('event_start_date', 'plan_start_date'),
      };
      expect(plan).toEqual({ ...parse(fixture('response_3.xml'), ctx), rejects: [reject] });
    }
  });
});

describe('fever-xml: structure', () => {
  it('reads a base element with one child and one with several the same way', () => {
    const xml = `<eventList><output>
      <base_event base_event_id="1" sell_mode="online" title="One">
        <event event_id="10" event_start_date="2021-01-01T10:00:00"><zone zone_id="1" price="5"/></event>
      </base_event>
      <base_event base_event_id="2" sell_mode="online" title="Many">
        <event event_id="10" event_start_date="2021-01-02T10:00:00"><zone zone_id="1" price="5"/><zone zone_id="2" price="7.5"/></event>
        <event event_id="11" event_start_date="2021-01-03T10:00:00"/>
        <event event_id="12" event_start_date="2021-01-04T10:00:00"></event>
      </base_event>
    </output></eventList>`;
    const result = parse(xml);
    expect(result.rejected).toBe(0);
    expect(
      result.events.map((e) => [e.externalKey, e.title, e.minPrice, e.maxPrice, e.endsAt]),
    ).toEqual([
      ['1/10', 'One', '5.00', '5.00', null],
      ['2/10', 'Many', '5.00', '7.50', null],
      ['2/11', 'Many', null, null, null],
      ['2/12', 'Many', null, null, null],
    ]);
  });

  it('treats an empty <output/> as zero events', () => {
    expect(parse('<?xml version="1.0"?><eventList><output/></eventList>')).toEqual({
      fetched: 0,
      events: [],
      rejects: [],
      rejected: 0,
    });
    expect(parse('<planList><output>\n  </output></planList>')).toEqual({
      fetched: 0,
      events: [],
      rejects: [],
      rejected: 0,
    });
    expect(
      parse('<eventList><output><base_event base_event_id="1" title="T"/></output></eventList>')
        .fetched,
    ).toBe(0);
  });

  it('throws PayloadError on malformed XML', () => {
    expect(() => parse('<eventList><output></eventList>')).toThrow(PayloadError);
    expect(() => parse('<eventList><output></eventList>')).toThrow(/not well-formed XML/);
    expect(() => parse('{"events": []}')).toThrow(PayloadError);
    expect(() => parse('')).toThrow(PayloadError);
    expect(() => parse(Buffer.from([0x3c, 0x61, 0xff, 0x3e]))).toThrow(/UTF-8/);
  });

  it('throws PayloadError on an unknown root, several roots or a missing <output>', () => {
    expect(() => parse('<events><output/></events>')).toThrow(PayloadError);
    expect(() => parse('<events><output/></events>')).toThrow(
      /unknown root element <events>; expected <eventList> or <planList>/,
    );
    expect(() => parse('<eventList><output/></eventList><eventList><output/></eventList>')).toThrow(
      PayloadError,
    );
    expect(() => parse('<eventList><output/></eventList><other/>')).toThrow(PayloadError);
    expect(() => parse('<eventList/>')).toThrow(/no <output>/);
  });

  it('decodes the XML built-in entities and refuses documents declaring DOCTYPE entities', () => {
    const body = `<eventList><output>
        <base_event base_event_id="1" sell_mode="online" title="Rock &amp; Roll &#38; &lt;live&gt; &boom;">
          <event event_id="2" event_start_date="2021-06-30T21:00:00"/>
        </base_event>
      </output></eventList>`;
    expect(parse(`<?xml version="1.0"?>\n<!DOCTYPE eventList>\n${body}`).events[0]?.title).toBe(
      'Rock & Roll & <live> &boom;',
    );
    // Never expanded, and not stored as text either (xml.limits.ts).
    expect(() =>
      parse(`<?xml version="1.0"?>\n<!DOCTYPE eventList [<!ENTITY boom "BOOM">]>\n${body}`),
    ).toThrow(/DOCTYPE with entities/);
    expect(() =>
      parse(`<?xml version="1.0"?>\n<!DOCTYPE eventList SYSTEM "file:///etc/passwd">\n${body}`),
    ).toThrow(PayloadError);
  });

  it('rejects a ctx.timezone that is not an IANA zone', () => {
    expect(() => fever.parse(fixture('response_1.xml'), { timezone: 'Mars/Olympus' })).toThrow(
      RangeError,
    );
  });
});

describe('fever-xml: item validation', () => {
  it('rejects only the event whose price is not a number', () => {
    const xml = fixture('response_1.xml').toString('utf8').replace('price="55.00"', 'price="abc"');
    const result = parse(xml);
    expect(result.events.map((e) => e.externalKey)).toEqual(['291/291', '1591/1642']);
    expect(result.rejects).toEqual([
      { key: '322/1642', reason: 'zone 311: non-numeric price "abc"' },
    ]);
  });

  it('rejects negative, missing and out-of-range prices', () => {
    expect(parse(feed(okEvent, '<zone zone_id="1" price="-5.00"/>')).rejects).toEqual([
      { key: '1/2', reason: 'zone 1: negative price "-5.00"' },
    ]);
    expect(parse(feed(okEvent, '<zone zone_id="1"/>')).rejects).toEqual([
      { key: '1/2', reason: 'zone 1 has no price' },
    ]);
    expect(parse(feed(okEvent, '<zone zone_id="1" price="1e3"/>')).rejected).toBe(1);
    expect(
      parse(feed(okEvent, '<zone zone_id="1" price="10000000000.00"/>')).rejects[0]?.reason,
    ).toMatch(/out of range/);
  });

  it('normalises prices to two decimals, rounding half up', () => {
    const zones =
      '<zone zone_id="1" price="020"/><zone zone_id="2" price="0.005"/><zone zone_id="3" price="9999999999.994"/>';
    expect(parse(feed(okEvent, zones)).events[0]).toMatchObject({
      minPrice: '0.01',
      maxPrice: '9999999999.99',
    });
  });

  it('honours an explicit offset or Z over the provider timezone', () => {
    const offset =
      'event_id="2" event_start_date="2021-06-30T21:00:00+02:00" event_end_date="2021-06-30T22:00:00Z"';
    for (const ctx of [utc, madrid, { timezone: 'America/New_York' }]) {
      expect(parse(feed(offset), ctx).events[0]).toMatchObject({
        startsAt: new Date('2021-06-30T19:00:00Z'),
        endsAt: new Date('2021-06-30T22:00:00Z'),
        timezone: ctx.timezone,
      });
    }
  });

  it('rejects missing title, ids or start; end is optional but not before the start', () => {
    const cases: [string, string, string][] = [
      [feed(okEvent, '', 'base_event_id="1"'), '1/2', 'missing title on <base_event>'],
      [feed(okEvent, '', 'title="T"'), '?/2', 'missing base_event_id'],
      [feed('event_start_date="2021-06-30T21:00:00"'), '1/?', 'missing event_id'],
      [
        feed('event_id="a/b" event_start_date="2021-06-30T21:00:00"'),
        '1/a/b',
        'base_event_id and event_id must not contain "/"',
      ],
      [
        feed('event_id="2" event_end_date="2021-06-30T21:00:00"'),
        '1/2',
        'missing event_start_date',
      ],
      [
        feed('event_id="2" event_start_date="tomorrow"'),
        '1/2',
        'invalid event_start_date "tomorrow": the input "tomorrow" can\'t be parsed as ISO 8601',
      ],
      [
        feed(
          'event_id="2" event_start_date="2021-06-30T21:00:00" event_end_date="2021-06-30T20:59:59"',
        ),
        '1/2',
        'event_end_date "2021-06-30T20:59:59" is before event_start_date "2021-06-30T21:00:00"',
      ],
      [
        feed(
          'event_id="2" event_start_date="2021-06-30T21:00:00" event_end_date="2021-02-29T10:00:00"',
        ),
        '1/2',
        'invalid event_end_date "2021-02-29T10:00:00": you specified 29 (of type number) as a day, which is invalid',
      ],
    ];
    for (const [xml, key, reason] of cases) {
      expect(parse(xml)).toEqual({
        fetched: 1,
        events: [],
        rejects: [{ key, reason }],
        rejected: 1,
      });
    }
    expect(
      parse(feed('event_id="2" event_start_date="2021-06-30T21:00:00"')).events[0]?.endsAt,
    ).toBeNull();
    expect(
      parse(
        feed(
          'event_id="2" event_start_date="2021-06-30T21:00:00" event_end_date="2021-06-30T21:00:00"',
        ),
      ).rejected,
    ).toBe(0);
  });

  it('lets a later duplicate key replace an earlier one and counts the earlier as a reject', () => {
    const xml = `<eventList><output>
      <base_event base_event_id="1" sell_mode="online" title="First"><event event_id="2" event_start_date="2021-01-01T10:00:00"/></base_event>
      <base_event base_event_id="3" sell_mode="online" title="Other"><event event_id="2" event_start_date="2021-01-01T10:00:00"/></base_event>
      <base_event base_event_id="1" sell_mode="offline" title="Second"><event event_id="2" event_start_date="2021-01-02T10:00:00"/></base_event>
    </output></eventList>`;
    const result = parse(xml);
    expect(result.fetched).toBe(3);
    expect(result.rejects).toEqual([
      { key: '1/2', reason: 'duplicate key: replaced by a later item with the same key' },
    ]);
    expect(result.events.map((e) => [e.externalKey, e.title, e.online])).toEqual([
      ['3/2', 'Other', true],
      ['1/2', 'Second', false],
    ]);
  });

  it('keeps at most 50 reject samples but counts every reject', () => {
    const events = Array.from(
      { length: 120 },
      (_, i) => `<event event_id="${i}" event_start_date="nope"/>`,
    ).join('');
    const result = parse(
      `<eventList><output><base_event base_event_id="1" title="T">${events}</base_event></output></eventList>`,
    );
    expect(result).toMatchObject({ fetched: 120, rejected: 120, events: [] });
    expect(result.rejects).toHaveLength(50);
  });
});
