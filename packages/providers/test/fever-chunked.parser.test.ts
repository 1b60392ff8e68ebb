import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from '@jest/globals';
import type { EventRecord } from '@marquee/event-model';
import { generateFeeds } from '../../../bench/feed.generator.ts';
import {
  feverXmlOutcomes,
  parseFeverXml,
  parseFeverXmlChunked,
  PayloadError,
  streamOutcomes,
  type ParseResult,
} from '../src/index.ts';

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../../samples/fixtures/fever/${name}`, import.meta.url));
const zones = [{ timezone: 'UTC' }, { timezone: 'Europe/Madrid' }];

/** The whole-document result, or the class of what it threw. */
async function outcome(run: () => ParseResult | Promise<ParseResult>): Promise<unknown> {
  try {
    return await run();
  } catch (error) {
    return { threw: (error as Error).constructor.name };
  }
}

async function expectSameAsWholeDocument(xml: string | Buffer, sliceBytes?: number) {
  const body = typeof xml === 'string' ? Buffer.from(xml) : xml;
  for (const ctx of zones) {
    const whole = await outcome(() => parseFeverXml(body, ctx));
    const chunked = await outcome(() => parseFeverXmlChunked(body, ctx, { sliceBytes }));
    expect(chunked).toEqual(whole);
  }
}

const base = (id: string, events: string, extra = '') =>
  `<base_event base_event_id="${id}" sell_mode="online" title="T${id}"${extra}>${events}</base_event>`;
const item = (id: string, start = '2021-06-30T21:00:00') =>
  `<event event_id="${id}" event_start_date="${start}"><zone zone_id="1" price="${id}.50"/></event>`;

describe('fever-xml chunked reader: the same result as the whole-document parser', () => {
  it('on every fixture, with one base element per slice and with the default slice size', async () => {
    for (const name of ['response_1.xml', 'response_2.xml', 'response_3.xml', 'plans.xml']) {
      await expectSameAsWholeDocument(fixture(name), 1);
      await expectSameAsWholeDocument(fixture(name));
    }
  });

  it('on a generated feed of 3,000 events, both snapshots, several slice sizes', async () => {
    const feeds = generateFeeds({ events: 3_000, changedShare: 0.05, seed: 7 });
    for (const sliceBytes of [2_000, 50_000, undefined]) {
      await expectSameAsWholeDocument(feeds.feverA, sliceBytes);
    }
    await expectSameAsWholeDocument(feeds.feverB);
    const result = await parseFeverXmlChunked(feeds.feverA, zones[1]!);
    expect(result.fetched).toBe(3_000);
    expect(result.events.length).toBe(3_000);
  });

  it('on duplicates across slices, self-closing, text-only and misplaced base elements', async () => {
    const xml = `<?xml version="1.0"?>\n<eventList><output>
      ${base('1', item('2'))}
      <base_event base_event_id="9" title="empty"/>
      <base_event base_event_id="8" title="spaced" ></base_event >
      <base_event>text only</base_event>
      ${base('3', item('2') + item('4', 'nope'))}
      ${base('1', item('2', '2021-07-01T10:00:00'), ' extra="a &gt; b / c"')}
    </output>
    <output>${base('5', item('6'))}</output>
    ${base('7', item('7'))}
    <other>${base('10', item('10'))}</other>
    </eventList>`;
    await expectSameAsWholeDocument(xml, 1);
    await expectSameAsWholeDocument(xml);
    const result = await parseFeverXmlChunked(Buffer.from(xml), zones[0]!, { sliceBytes: 1 });
    expect(result.events.map((e) => e.externalKey)).toEqual(['3/2', '1/2', '5/6']);
    expect(result.rejects.map((r) => r.key)).toEqual(['3/4', '1/2']);
  });

  it('on base elements in runs (whitespace between them) and apart (elements, text, outputs)', async () => {
    const xml = `<eventList><output>${base('1', item('1'))} \r\n\t${base('2', item('2'))}<note/>${base('3', item('3'))}
      ${base('4', item('4'))}text${base('5', item('5'))}</output>  ${base('6', item('6'))}
      <output>${base('7', item('7'))}${base('8', item('8'))}</output><output>${base('9', item('9'))}</output></eventList>`;
    await expectSameAsWholeDocument(xml, 1);
    await expectSameAsWholeDocument(xml);
    const result = await parseFeverXmlChunked(Buffer.from(xml), zones[0]!, { sliceBytes: 1 });
    expect(result.events.map((e) => e.externalKey)).toEqual(
      ['1', '2', '3', '4', '5', '7', '8', '9'].map((id) => `${id}/${id}`),
    );
  });

  it('on documents it hands to the whole-document parser (comments, CDATA, DOCTYPE, nesting)', async () => {
    const cases = [
      `<eventList><output><!-- <base_event> -->${base('1', item('2'))}</output></eventList>`,
      `<eventList><output>${base('1', item('2'))}<![CDATA[</base_event>]]></output></eventList>`,
      `<!DOCTYPE eventList><eventList><output>${base('1', item('2'))}</output></eventList>`,
      `<eventList><output>${base('1', `<base_event base_event_id="2" title="x"/>${item('2')}`)}</output></eventList>`,
      `<eventList><output><?pi x?>${base('1', item('2'))}</output></eventList>`,
      `\uFEFF<planList><output><base_plan base_plan_id="1" title="P"><plan plan_id="2" plan_start_date="2021-01-01T10:00:00"/></base_plan></output></planList>`,
    ];
    for (const xml of cases) await expectSameAsWholeDocument(xml, 1);
  });

  it('throws what the whole-document parser throws on broken payloads', async () => {
    const broken = [
      '',
      '{"events": []}',
      '<eventList><output></eventList>',
      `<eventList><output>${base('1', '<event event_id="2">')}</output></eventList>`,
      `<eventList><output>${base('1', item('2'))}<base_event base_event_id="3" title="x"></output></eventList>`,
      `<eventList><output>${base('1', item('2'))}</output></eventList><eventList><output/></eventList>`,
      `<events><output>${base('1', item('2'))}</output></events>`,
      `<eventList>${base('1', item('2'))}</eventList>`,
      `<eventList><output>${base('1', '<event event_id="2" event_id="3"/>')}</output></eventList>`,
    ];
    for (const xml of broken) await expectSameAsWholeDocument(xml, 1);
    await expect(
      parseFeverXmlChunked(Buffer.from([0x3c, 0x61, 0xff, 0x3e]), zones[0]!),
    ).rejects.toThrow(/UTF-8/);
    await expect(
      parseFeverXmlChunked(
        Buffer.from(`<eventList><output>${base('1', '<event event_id="2">')}</output></eventList>`),
        zones[0]!,
      ),
    ).rejects.toThrow(PayloadError);
    await expect(
      parseFeverXmlChunked(fixture('response_1.xml'), { timezone: 'Mars/Olympus' }),
    ).rejects.toThrow(RangeError);
  });
});

describe('fever-xml chunked reader: a large parse leaves the event loop free', () => {
  it('timers keep firing (max event-loop delay < 1 s) while 20,000 events are parsed', async () => {
    const { feverA } = generateFeeds({ events: 20_000, changedShare: 0, seed: 3 });
    const delay = monitorEventLoopDelay({ resolution: 10 });
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 50);
    delay.enable();
    const started = performance.now();
    const result = await parseFeverXmlChunked(feverA, zones[1]!, { sliceBytes: 64 * 1024 });
    const elapsed = performance.now() - started;
    delay.disable();
    clearInterval(timer);
    expect(result.events.length).toBe(20_000);
    expect(delay.max / 1e6).toBeLessThan(1_000);
    // A 50 ms timer fires on most of its turns, not once at the end as behind a blocking parse.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 50 / 3));
  });
});

describe('streamOutcomes', () => {
  it.each([1, 2])(
    'hands every event over in batches, at most %i writes pending, with ParseResult counts',
    async (pending) => {
      const { feverA } = generateFeeds({ events: 2_000, changedShare: 0, seed: 11 });
      const whole = parseFeverXml(feverA, zones[0]!);
      const written: EventRecord[] = [];
      let inFlight = 0;
      let maxInFlight = 0;
      // Writes complete in call order (as a sink that queues its writes does). A write lasts
      // until the next batch is handed over (or 50 ms): a next call can only come while it is
      // pending when the limit allows two.
      let queue = Promise.resolve();
      let nextCall: (() => void) | undefined;
      const summary = await streamOutcomes(
        feverXmlOutcomes(feverA, zones[0]!, { sliceBytes: 8 * 1024 }),
        (events) => {
          nextCall?.();
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          const handedOver = new Promise<void>((resolve) => {
            nextCall = resolve;
            setTimeout(resolve, 50);
          });
          queue = queue.then(async () => {
            await handedOver;
            written.push(...events);
            inFlight -= 1;
          });
          return queue;
        },
        300,
        pending,
      );
      expect(maxInFlight).toBe(pending);
      expect(written).toEqual(whole.events);
      expect(summary).toEqual({
        fetched: whole.fetched,
        parsed: whole.events.length,
        rejects: whole.rejects,
        rejected: whole.rejected,
      });
    },
  );

  it('counts a duplicate as ParseResultBuilder does and stops at a failing write', async () => {
    const xml = `<eventList><output>${base('1', item('2'))}${base('3', item('4'))}${base('1', item('2', '2021-07-01T10:00:00'))}</output></eventList>`;
    const batches: string[][] = [];
    const summary = await streamOutcomes(
      feverXmlOutcomes(Buffer.from(xml), zones[0]!, { sliceBytes: 1 }),
      (events) => {
        batches.push(events.map((e) => e.externalKey));
        return Promise.resolve();
      },
      1,
    );
    expect(batches).toEqual([['1/2'], ['3/4'], ['1/2']]);
    expect(summary).toMatchObject({ fetched: 3, parsed: 2, rejected: 1 });

    await expect(
      streamOutcomes(
        feverXmlOutcomes(Buffer.from(xml), zones[0]!, { sliceBytes: 1 }),
        () => Promise.reject(new Error('database down')),
        1,
      ),
    ).rejects.toThrow('database down');
  });
});
