// The guarded-fetch step against a local provider, through the runtime's real fetch chain.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FetchStateRepository } from '@marquee/db';
import type { FetchedPayload } from '@marquee/fetch';
import { ProviderConfigError, UnknownProviderKindError } from '@marquee/providers';
import { eventually, feverFeed, startFeedServer, type FeedServer } from '@marquee/testing';
import { fetchPayload, sourceOf } from '../src/fetch.step.ts';
import { startStepHarness, type StepHarness } from './step.harness.ts';

let harness: StepHarness;
let site: FeedServer;
const conditional: string[] = [];
const FEED = feverFeed(3);
const pageOf = (n: number) => ({
  events: [{ id: `e${n}`, name: `Event ${n}`, start: `2030-05-0${n}T20:00:00Z` }],
  ...(n < 2 && { next: `/api?page=${n + 1}` }),
});

beforeAll(async () => {
  harness = await startStepHarness('fetch_step');
  site = await startFeedServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://site');
    conditional.push(request.headers['if-none-match'] ?? '');
    if (url.pathname === '/api') {
      const body = JSON.stringify(pageOf(Number(url.searchParams.get('page') ?? 1)));
      response.writeHead(200, { 'content-type': 'application/json' }).end(body);
    } else if (request.headers['if-none-match'] === '"v1"') {
      response.writeHead(304, { etag: '"v1"' }).end();
    } else {
      response.writeHead(200, { 'content-type': 'application/xml', etag: '"v1"' }).end(FEED);
    }
  });
});
afterAll(async () => {
  await site.close();
  await harness.close();
});

const JSON_API = {
  kind: 'json-api',
  config: {
    items: 'events',
    fields: { id: 'id', title: 'name', start: 'start' },
    pagination: { type: 'next-link', nextPath: 'next' },
  },
};

async function applied(providerId: string, seenMarkedAt: Date): Promise<void> {
  const state = { etag: '"v1"', lastModified: null, contentHash: 'x', parsedCount: 3 };
  await new FetchStateRepository(harness.db).save(providerId, { ...state, seenMarkedAt });
}

describe('sourceOf', () => {
  it('a single-document kind reads a document, others walk pages; bad kinds and configs are permanent', async () => {
    expect(sourceOf(await harness.addProvider({ kind: 'fever-xml' }))).toMatchObject({
      form: 'document',
      family: 'xml',
    });
    expect(sourceOf(await harness.addProvider(JSON_API))).toMatchObject({
      form: 'pages',
      family: 'json',
    });
    const stored = await harness.addProvider({});
    expect(() => sourceOf({ ...stored, kind: 'nope' })).toThrow(UnknownProviderKindError);
    expect(() => sourceOf({ ...stored, kind: 'json-api', config: { items: 1 } })).toThrow(
      ProviderConfigError,
    );
  });
});

describe('fetchPayload', () => {
  it('a document: fetched once, not parsed; the conditional GET only while the mark is fresh', async () => {
    const provider = await harness.addProvider({ url: `${site.url}/feed.xml` });
    // No applied payload: a plain GET, the whole document and its validators.
    let sync = await harness.begin(provider);
    const first = await fetchPayload(harness.runtime.deps, sync, sourceOf(provider));
    expect(first.form).toBe('document');
    expect((first as { page: FetchedPayload }).page.body.equals(FEED)).toBe(true);
    expect(first.facts).toMatchObject({ form: 'document', notModified: false, etag: '"v1"' });
    expect(conditional.at(-1)).toBe('');

    // Marked seen a minute ago: the validators are sent, and the 304 is a fact of the payload.
    await applied(provider.id, new Date(Date.now() - 60_000));
    sync = await harness.begin(provider);
    const again = await fetchPayload(harness.runtime.deps, sync, sourceOf(provider));
    expect(conditional.at(-1)).toBe('"v1"');
    expect(again.facts.notModified).toBe(true);

    // Marked seen two hours ago: fetched in full, to be parsed and marked again.
    await applied(provider.id, new Date(Date.now() - 2 * 3_600_000));
    sync = await harness.begin(provider);
    const stale = await fetchPayload(harness.runtime.deps, sync, sourceOf(provider));
    expect(conditional.at(-1)).toBe('');
    expect(stale.facts).toMatchObject({ notModified: false, contentHash: first.facts.contentHash });
  });

  it('pages: walked and parsed by the kind, every page hashed, never a conditional GET', async () => {
    const provider = await harness.addProvider({ ...JSON_API, url: `${site.url}/api` });
    await applied(provider.id, new Date());
    const sync = await harness.begin(provider);
    const before = conditional.length;
    const payload = await fetchPayload(harness.runtime.deps, sync, sourceOf(provider));
    expect(conditional.slice(before)).toEqual(['', '']);
    if (payload.form !== 'pages') throw new Error('expected pages');
    expect(payload.parsed.events.map((event) => event.title)).toEqual(['Event 1', 'Event 2']);
    expect(payload.facts).toMatchObject({ form: 'pages', notModified: false });
    // Each page fetched is progress, its events counted as they are read (throttled: a walk
    // slower than one interval sends an earlier state first; the latest state comes last).
    type Progress = { pages?: number; fetched?: number };
    const progress = await eventually(
      async () => {
        const current = (await harness.queue.queue.getJob(sync.job.id ?? ''))?.progress;
        const { pages, fetched } = (current ?? {}) as Progress;
        return pages === 2 && fetched === 2 ? current : undefined;
      },
      5_000,
      'the progress of both pages and their events',
    );
    await sync.progress.close();
    expect(progress).toMatchObject({ stage: 'fetching', pages: 2, fetched: 2, written: 0 });

    // The hash covers both pages: a second walk hashes the same, a first page alone differs.
    const again = await fetchPayload(
      harness.runtime.deps,
      await harness.begin(provider),
      sourceOf(provider),
    );
    expect(again.facts.contentHash).toBe(payload.facts.contentHash);
    const firstOnly = await harness.addProvider({
      ...JSON_API,
      config: { ...JSON_API.config, maxPages: 1 },
      url: `${site.url}/api`,
    });
    const one = await fetchPayload(
      harness.runtime.deps,
      await harness.begin(firstOnly),
      sourceOf(firstOnly),
    );
    expect(one.facts.contentHash).not.toBe(payload.facts.contentHash);
  });
});
