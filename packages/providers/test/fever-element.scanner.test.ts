import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// rng: mulberry32, so every run mutates the same way.
import { feedFiles, rng, writeFeeds } from '../../../bench/feed.generator.ts';
import { FeverElementScanner } from '../src/fever/fever-element.scanner.ts';
import { FORMS, parseDocument, type FeedForm } from '../src/fever/fever.parser.ts';
import { parseFeverXml, parseFeverXmlChunked, type ParseResult } from '../src/index.ts';

// The scanner's contract: for a slice of base elements it answers exactly what fast-xml-parser
// (through parseDocument, as the chunked reader calls it) gives for the same text in a wrapper
// element, or nothing, and then the chunked reader uses fast-xml-parser. So wherever it answers,
// its object must deep-equal fast-xml-parser's, and fast-xml-parser must not have thrown.

type Span = { start: number; end: number };
const WRAPPER = 'marquee-slice';
const eventList = FORMS[0]!;
const planList = FORMS[1]!;

/** fast-xml-parser's object for the spans' text in a wrapper, or what it threw. */
function fxpSlice(body: Buffer, spans: readonly Span[]): unknown {
  const inner = spans.map(({ start, end }) => body.toString('utf8', start, end)).join('');
  try {
    return { value: parseDocument(`<${WRAPPER}>${inner}</${WRAPPER}>`)[WRAPPER] };
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

/** Whether the scanner answered; when it did, its answer is fast-xml-parser's. */
function scanMatches(form: FeedForm, body: Buffer, spans: readonly Span[]): boolean {
  const scanned = new FeverElementScanner(form).scanSlice(body, spans);
  if (scanned === undefined) return false;
  expect({ value: scanned }).toStrictEqual(fxpSlice(body, spans));
  return true;
}

/** The elements one after the other, as the chunked reader hands them over. */
function sliceOf(elements: readonly string[]): { body: Buffer; spans: Span[] } {
  const spans: Span[] = [];
  let offset = 0;
  for (const element of elements) {
    const length = Buffer.byteLength(element);
    spans.push({ start: offset, end: offset + length });
    offset += length;
  }
  return { body: Buffer.from(elements.join('')), spans };
}

/** The base elements of a well-formed feed without self-closing base elements. */
function baseElements(xml: string, form: FeedForm): string[] {
  return [...xml.matchAll(new RegExp(`<${form.base}[\\s>][^]*?</${form.base}>`, 'g'))].map(
    (match) => match[0],
  );
}

const ALPHABET = Buffer.from(`<>/="' \t\r\n&;#xX0123456789aez_:-.?!\u00e9\u00a0\u2028`);

/** 1-3 random byte edits of `bytes`: replace, delete, insert, or copy a run elsewhere. */
function mutate(bytes: Buffer, random: () => number): Buffer {
  let out = bytes;
  const edits = 1 + Math.floor(random() * 3);
  for (let e = 0; e < edits; e += 1) {
    const at = Math.floor(random() * out.length);
    const pick = () =>
      random() < 0.85
        ? ALPHABET[Math.floor(random() * ALPHABET.length)]!
        : Math.floor(random() * 256);
    const kind = random();
    if (kind < 0.35) {
      out = Buffer.from(out);
      out[at] = pick();
    } else if (kind < 0.55) {
      out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + Math.floor(random() * 3))]);
    } else if (kind < 0.8) {
      const inserted = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 3) }, pick));
      out = Buffer.concat([out.subarray(0, at), inserted, out.subarray(at)]);
    } else {
      const from = Math.floor(random() * out.length);
      const run = out.subarray(from, from + 1 + Math.floor(random() * 40));
      out = Buffer.concat([out.subarray(0, at), run, out.subarray(at)]);
    }
  }
  return out;
}

async function outcome(run: () => Promise<ParseResult>): Promise<unknown> {
  try {
    return await run();
  } catch (error) {
    return { threw: (error as Error).constructor.name, message: (error as Error).message };
  }
}

/** The chunked reader with and without the scanner: the same result or the same error. */
async function expectSameAsFxpSlices(body: Buffer, sliceBytes?: number) {
  for (const timezone of ['UTC', 'Europe/Madrid']) {
    const scanned = await outcome(() => parseFeverXmlChunked(body, { timezone }, { sliceBytes }));
    const fxp = await outcome(() =>
      parseFeverXmlChunked(body, { timezone }, { sliceBytes, scanner: false }),
    );
    expect(scanned).toEqual(fxp);
  }
}

const fixture = (path: string) => readFileSync(new URL(path, import.meta.url));
const FIXTURES = [
  '../../samples/fixtures/fever/response_1.xml',
  '../../samples/fixtures/fever/response_2.xml',
  '../../samples/fixtures/fever/response_3.xml',
  '../../samples/fixtures/fever/plans.xml',
];

let generatedDir = '';
const generated: { a: Buffer; b: Buffer } = { a: Buffer.alloc(0), b: Buffer.alloc(0) };
beforeAll(() => {
  // The benchmark's generator, as `pnpm bench:gen` runs it, writing to a scratch directory.
  generatedDir = mkdtempSync(join(tmpdir(), 'marquee-fever-scan-'));
  writeFeeds({ events: 3_000, changedShare: 0.05, seed: 17 }, generatedDir);
  const files = feedFiles(3_000, generatedDir);
  generated.a = readFileSync(files.feverA);
  generated.b = readFileSync(files.feverB);
});
afterAll(() => rmSync(generatedDir, { recursive: true, force: true }));

describe('FeverElementScanner: fast-xml-parser’s object, or no answer', () => {
  it('answers for every base element of every Fever fixture, one at a time and all together', () => {
    for (const path of FIXTURES) {
      const xml = fixture(path).toString('utf8');
      const form = xml.includes('<planList') ? planList : eventList;
      const elements = baseElements(xml, form);
      expect(elements.length).toBeGreaterThan(0);
      for (const element of elements) {
        const { body, spans } = sliceOf([element]);
        expect(scanMatches(form, body, spans)).toBe(true);
      }
      const { body, spans } = sliceOf(elements);
      expect(scanMatches(form, body, spans)).toBe(true);
    }
  });

  it('answers for every slice of the generated feeds (both snapshots)', () => {
    for (const feed of [generated.a, generated.b]) {
      const elements = baseElements(feed.toString('utf8'), eventList);
      expect(elements.length).toBeGreaterThan(500);
      for (let i = 0; i < elements.length; i += 100) {
        const { body, spans } = sliceOf(elements.slice(i, i + 100));
        expect(scanMatches(eventList, body, spans)).toBe(true);
      }
    }
  });

  const base = (inner: string, attributes = ' base_event_id="1" title="T"') =>
    `<base_event${attributes}>${inner}</base_event>`;
  const item = (attributes: string, inner = '') =>
    `<event event_id="2" event_start_date="2021-06-30T21:00:00"${attributes}>${inner}</event>`;
  const zone = (attributes: string) => `<zone zone_id="1" price="10.00"${attributes}/>`;

  // [elements of one slice, whether the scanner answers]
  const cases: [string[], boolean][] = [
    // Entities and character references.
    [
      [base('', ' base_event_id="1" title="a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;"')],
      true,
    ],
    [[base(item(' extra="&#65;&#x42;&#x1F600;&#0000067;&#x10FFFF;"'))], true],
    [[base(item('', zone(' name="Caf&#xe9; &#233; &#x20AC;"')))], true],
    [[base('', ' base_event_id="1" title="&#32; padded by a reference &#x9;"')], true],
    [[base('', ' base_event_id="1" title="&unknown; entity"')], false],
    [[base('', ' base_event_id="1" title="bare & ampersand"')], false],
    [[base('', ' base_event_id="1" title="&amp no semicolon"')], false],
    [[base('', ' base_event_id="1" title="&#0; nul"')], false],
    [[base('', ' base_event_id="1" title="&#xD800; surrogate"')], false],
    [[base('', ' base_event_id="1" title="&#x110000; too big"')], false],
    [[base('', ' base_event_id="1" title="&#X41; capital X"')], false],
    [[base('', ' base_event_id="1" title="&#12345678; eight digits"')], false],
    [[base('', ' base_event_id="1" title="&#x0000041; seven hex digits"')], false],
    [[base('', ' base_event_id="1" title="&#; empty"')], false],
    // Quotes.
    [[base(item(` title='single' other="it's" more='say "hi"'`))], true],
    [[base(item('', zone(` name='a &apos;quoted&apos; "name"'`)))], true],
    [[base('', ' base_event_id=1 title="unquoted"')], false],
    [[base('', ' base_event_id="1 title="T"')], false],
    // Whitespace.
    [[base(item('\n\t extra = "spaced equals"\r\n', '\n  ' + zone('\t') + '\r\n'))], true],
    [[`<base_event\n\tbase_event_id="1"\r\n title="T"\n>\n</base_event\n>`], true],
    [[base('', ' base_event_id="  1  " title="\ttabbed\t"')], true],
    [[base('', ' base_event_id="1" title=" line\nbreak "')], true],
    [[base('', ' base_event_id="1" title="\u00a0no-break spaces\u00a0"')], true],
    [[base('', ' base_event_id="1" title="\u2028line separator\u3000"')], true],
    [[base('', ' base_event_id="1" title="   "')], true],
    [[base('', ' base_event_id="1" title="carriage\rreturn"')], false],
    [[base('', ' base_event_id="1" title="x"sell_mode="online"')], false],
    [[base('', ' base_event_id="1"\u00a0title="x"')], false],
    [[base(item('/ '))], false],
    // Empty and self-closing elements.
    [
      [
        '<base_event/>',
        '<base_event />',
        '<base_event></base_event>',
        '<base_event> </base_event>',
      ],
      true,
    ],
    [['<base_event base_event_id="1" title=""/>'], true],
    [
      [base('<event/><event></event><event> </event>' + item('', '<zone/><zone></zone><zone />'))],
      true,
    ],
    [[base('<event><zone price="1"/></event>')], true],
    [['<base_event><event event_id="1"/></base_event>'], true],
    // Names.
    [
      [base(item(' xmlns:x="ns" a.b-c_d="1" _u="2" __proto__="3" toString="4" constructor="5"'))],
      true,
    ],
    [[base(item(' 1a="digit first"'))], false],
    [[base(item(' na\u00efve="non-ASCII name"'))], false],
    [[base(item(' a="1" a="2"'))], false],
    [[base(item(' event_id="3"'))], false],
    [[base(item(' boolean'))], false],
    [[base(item(' ="no name"'))], false],
    // Structure and content.
    [[base(item('', 'text'))], false],
    [[base('text' + item(''))], false],
    [[base(item('', '<!-- comment -->'))], false],
    [[base(item('', '<![CDATA[x]]>'))], false],
    [[base(item('', '<?pi x?>'))], false],
    [[base(item('', '<venue id="1"/>'))], false],
    [[base('<zone price="1"/>')], false],
    [[base(item('', '<zone price="1"><zone/></zone>'))], false],
    [['<base_event base_event_id="1"><event></base_event>'], false],
    [['<base_event base_event_id="1"></base_eventx>'], false],
    [['<base_eventx base_event_id="1"></base_eventx>'], false],
    [['<base_event base_event_id="1" title="a < b"/>'], false],
    [['<base_event base_event_id="1" title="a > b"/>'], true],
    [['<base_event base_event_id="1"/ >'], false],
    [['<base_event base_event_id="1">'], false],
    [['<base_event base_event_id="1"/>trailing'], false],
    [['<base_event title="Orquesta Sinf\u00f3nica \ud83c\udfbb"/>'], true],
  ];

  it.each(
    cases.map(
      ([elements, answers]) => [answers, JSON.stringify(elements).slice(0, 100), elements] as const,
    ),
  )('answers %s: %s', (answers, _label, elements) => {
    const { body, spans } = sliceOf(elements);
    expect(scanMatches(eventList, body, spans)).toBe(answers);
  });

  it('answers only what fast-xml-parser gives, under 4,000 random byte edits of real slices', () => {
    const elements = baseElements(generated.a.toString('utf8'), eventList);
    const random = rng(20261127);
    let answered = 0;
    let declined = 0;
    for (let n = 0; n < 4_000; n += 1) {
      const first = Math.floor(random() * (elements.length - 3));
      const parts: Buffer[] = elements
        .slice(first, first + 3)
        .map((element) => Buffer.from(element));
      const target = Math.floor(random() * parts.length);
      parts[target] = mutate(parts[target]!, random);
      const spans: Span[] = [];
      let offset = 0;
      for (const part of parts) {
        spans.push({ start: offset, end: offset + part.length });
        offset += part.length;
      }
      if (scanMatches(eventList, Buffer.concat(parts), spans)) answered += 1;
      else declined += 1;
    }
    // Both ways are exercised: edits inside values and whitespace keep the slice in the subset.
    expect(answered).toBeGreaterThan(800);
    expect(declined).toBeGreaterThan(800);
  });
});

describe('fever-xml chunked reader with the scanner: the same results, rejects and errors', () => {
  it('on every fixture, whatever the slice size', async () => {
    for (const path of FIXTURES) {
      for (const sliceBytes of [1, undefined])
        await expectSameAsFxpSlices(fixture(path), sliceBytes);
    }
  });

  it('on the generated feeds, and on the same feed with CRLF line ends', async () => {
    for (const feed of [generated.a, generated.b]) {
      for (const sliceBytes of [3_000, undefined]) await expectSameAsFxpSlices(feed, sliceBytes);
    }
    await expectSameAsFxpSlices(Buffer.from(generated.a.toString('utf8').replace(/\n/g, '\r\n')));
    const result = await parseFeverXmlChunked(generated.a, { timezone: 'Europe/Madrid' });
    expect(result.events.length).toBe(3_000);
    expect(result).toEqual(parseFeverXml(generated.a, { timezone: 'Europe/Madrid' }));
  });

  it('on 600 randomly edited documents (results, rejects and thrown errors)', async () => {
    const { body } = sliceOf([
      '<?xml version="1.0" encoding="UTF-8"?>\n<eventList version="1.0">\n<output>\n',
      ...baseElements(generated.a.toString('utf8'), eventList).slice(40, 52),
      '\n</output>\n</eventList>\n',
    ]);
    const random = rng(7);
    const kinds = new Set<string>();
    for (let n = 0; n < 600; n += 1) {
      const edited = mutate(body, random);
      await expectSameAsFxpSlices(edited, 1_500);
      const result = await outcome(() =>
        parseFeverXmlChunked(edited, { timezone: 'UTC' }, { sliceBytes: 1_500 }),
      );
      kinds.add('threw' in (result as object) ? 'threw' : 'parsed');
    }
    expect([...kinds].sort()).toEqual(['parsed', 'threw']);
  });
});
