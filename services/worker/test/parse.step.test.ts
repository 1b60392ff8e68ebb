// The parse step: every payload reaches the writer as a stream of batches.
import { describe, expect, it } from '@jest/globals';
import type { FetchedPayload } from '@marquee/fetch';
import {
  feverXml,
  singleDocumentKind,
  type EventBatchSink,
  type ParseResult,
} from '@marquee/providers';
import { feverFeed } from '@marquee/testing';
import type { Payload, PayloadSource } from '../src/fetch.step.ts';
import { streamOf } from '../src/parse.step.ts';

const URL_DOC = 'http://feed.test/feed.xml';
const facts = {
  form: 'document',
  resumed: false,
  truncated: false,
  notModified: false,
  contentHash: 'h',
  etag: null,
  lastModified: null,
} as const;

/** A fetched document; any further request of the kind is recorded (and fails). */
function documentOf(body: Buffer) {
  const requested: string[] = [];
  const page: FetchedPayload = { status: 200, body, headers: {}, url: URL_DOC };
  const payload: Payload = {
    form: 'document',
    url: URL_DOC,
    page,
    fetch: (url) => {
      requested.push(url);
      return Promise.reject(new Error(`fetched ${url} again`));
    },
    facts,
  };
  return { payload, requested };
}

async function drain(stream: ReturnType<typeof streamOf>) {
  const batches: Parameters<EventBatchSink>[0][] = [];
  const parsed = await stream((batch) => {
    batches.push([...batch]);
    return Promise.resolve();
  });
  return { parsed, sizes: batches.map((batch) => batch.length), batches };
}

const source = (kind: PayloadSource['kind'], form: PayloadSource['form']): PayloadSource => ({
  kind,
  config: {},
  form,
  family: 'xml',
});

describe('streamOf', () => {
  it('a streaming kind parses the fetched document in batches, without fetching it again', async () => {
    const { payload, requested } = documentOf(feverFeed(5_000));
    const { parsed, sizes } = await drain(streamOf(source(feverXml, 'document'), payload, 'UTC'));
    expect(requested).toEqual([]);
    expect(sizes.length).toBeGreaterThan(1);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(5_000);
    expect(parsed).toMatchObject({ fetched: 5_000, parsed: 5_000, rejected: 0 });
  });

  it('a kind that parses whole documents hands its result over as one batch', async () => {
    const whole = singleDocumentKind({
      kind: 'fever-whole',
      description: 'the whole-document Fever parser',
      configSchema: feverXml.configSchema,
      parse: feverXml.parse,
    });
    const { payload, requested } = documentOf(feverFeed(5_000));
    const { parsed, sizes } = await drain(streamOf(source(whole, 'document'), payload, 'UTC'));
    expect(requested).toEqual([]);
    expect(sizes).toEqual([5_000]);
    expect(parsed).toMatchObject({ fetched: 5_000, parsed: 5_000 });
  });

  it('walked pages are handed over as one batch; none when there is no event', async () => {
    const result: ParseResult = feverXml.parse(feverFeed(3), { timezone: 'UTC', config: {} });
    const pages = (parsed: ParseResult): Payload => ({
      form: 'pages',
      parsed,
      facts: { ...facts, form: 'pages' },
    });
    const three = await drain(streamOf(source(feverXml, 'pages'), pages(result), 'UTC'));
    expect(three.batches).toEqual([result.events]);
    expect(three.parsed).toEqual({ fetched: 3, parsed: 3, rejects: [], rejected: 0 });
    const none = { fetched: 1, events: [], rejects: [{ key: '?', reason: 'bad' }], rejected: 1 };
    const empty = await drain(streamOf(source(feverXml, 'pages'), pages(none), 'UTC'));
    expect(empty.sizes).toEqual([]);
    expect(empty.parsed).toEqual({ fetched: 1, parsed: 0, rejects: none.rejects, rejected: 1 });
  });
});
