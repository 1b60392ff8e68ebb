// Issue 2's acceptance case, through the real parts: a provider feed on a local HTTP server, the
// BullMQ queue and worker on Redis, Postgres, and the API app answering searches.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SearchCache } from '@marquee/cache';
import { SyncRunRepository, type Db, type Provider } from '@marquee/db';
import { feverFixture, feverProvider, startFeedServer, type FeedServer } from '@marquee/testing';
import type { SyncSummary } from '@marquee/worker';
import { ACCEPTANCE_EVENTS, ACCEPTANCE_WINDOW, type FeverAnswer } from './fever.answers.ts';
import { startPipelineStack, type PipelineStack } from './pipeline.stack.ts';

let stack: PipelineStack;
let db: Db;
let cache: SearchCache;
let apiUrl: string;
let feed: FeedServer;
let provider: Provider;
let body: Buffer | 'garbage' | 500 = feverFixture('response_1.xml');

beforeAll(async () => {
  stack = await startPipelineStack({
    label: 'pipeline',
    workerEnv: { WORKER_CONCURRENCY: '2', FETCH_MAX_BYTES: '1000000' },
    api: true,
  });
  ({ db, cache, apiUrl } = stack);
  feed = await startFeedServer((_request, response) => {
    if (body === 500) response.writeHead(500).end('upstream broke');
    else if (body === 'garbage')
      response
        .writeHead(200, { 'content-type': 'application/xml' })
        .end('<eventList><output><base_event');
    else response.writeHead(200, { 'content-type': 'application/xml' }).end(body);
  });
  provider = await stack.providers.create(feverProvider('fever', `${feed.url}/feed.xml`));
});

afterAll(async () => {
  await stack.close();
  await feed.close();
});

const sync = (attempts = 1): Promise<SyncSummary> => stack.sync(provider, { attempts });

type FeverEvent = FeverAnswer & { id: string };

async function search(
  query: string,
): Promise<{ status: number; cache: string | null; events: FeverEvent[] }> {
  const response = await fetch(`${apiUrl}/search${query}`);
  const json = (await response.json()) as { data: { events: FeverEvent[] } | null; error: unknown };
  return {
    status: response.status,
    cache: response.headers.get('x-cache'),
    events: json.data?.events ?? [],
  };
}

/** Snapshots 2 and 3 (and the planList form): three items, 444's impossible date rejected. */
const WITH_444 = { fetched: 3, parsed: 2, rejected: 1 };

describe('Fever feed, snapshots 1 → 2 → 3', () => {
  const ids = new Map<string, string>();

  it('ingests snapshot 1 and answers searches from it', async () => {
    expect(await sync()).toMatchObject({
      fetched: 3,
      parsed: 3,
      upserted: 3,
      unchanged: 0,
      rejected: 0,
      changed: true,
    });
    const { events } = await search(ACCEPTANCE_WINDOW);
    expect(events.map((event) => event.title)).toEqual([
      'Pantomima Full',
      'Camela en concierto',
      'Los Morancos',
    ]);
    for (const event of events) ids.set(event.title, event.id);
  });

  it('skips the impossible date of snapshot 2, keeps the rest and keeps 322 after it left the feed', async () => {
    body = feverFixture('response_2.xml');
    const version = await cache.version();
    // 291 only changed capacities (not part of an event), 1591 its end time, 444 is rejected.
    expect(await sync()).toMatchObject({ ...WITH_444, upserted: 1, unchanged: 1, changed: true });
    expect(await cache.version()).toBe(version + 1);
    const run = await new SyncRunRepository(db).latest(provider.id);
    expect(run?.rejects).toEqual([
      expect.objectContaining({ key: '444/1642', reason: expect.stringContaining('2021-09-31') }),
    ]);
  });

  it('applies snapshot 3, where the latest end times win', async () => {
    body = feverFixture('response_3.xml');
    expect(await sync()).toMatchObject({ ...WITH_444, upserted: 2, unchanged: 0 });
  });

  it('returns 291, 322 and 1591 with their latest values and stable ids', async () => {
    const { status, events } = await search(ACCEPTANCE_WINDOW);
    expect(status).toBe(200);
    expect(events).toEqual(
      ACCEPTANCE_EVENTS.map((event) => ({ id: ids.get(event.title), ...event })),
    );
  });

  it('never shows the offline-only event 444, with or without bounds', async () => {
    const all = await search('');
    expect(all.events.map((event) => event.title).sort()).toEqual([
      'Camela en concierto',
      'Los Morancos',
      'Pantomima Full',
    ]);
    expect(await db.event.count()).toBe(3);
  });

  it('treats both bounds as inclusive', async () => {
    const exact = await search('?starts_at=2021-06-30T21:00:00Z&ends_at=2021-06-30T21:30:00Z');
    expect(exact.events.map((event) => event.title)).toEqual(['Camela en concierto']);
    expect(
      (await search('?starts_at=2021-06-30T21:00:01Z&ends_at=2021-06-30T21:30:00Z')).events,
    ).toEqual([]);
    expect(
      (await search('?starts_at=2021-06-30T21:00:00Z&ends_at=2021-06-30T21:29:59Z')).events,
    ).toEqual([]);
  });

  it('does not invalidate the cache when an ingest changed nothing', async () => {
    const first = await search(ACCEPTANCE_WINDOW);
    const again = await search(ACCEPTANCE_WINDOW);
    expect(again.cache).toBe('hit');
    const version = await cache.version();
    expect(await sync()).toMatchObject({ upserted: 0, unchanged: 2, changed: false });
    expect(await cache.version()).toBe(version);
    const after = await search(ACCEPTANCE_WINDOW);
    expect(after.cache).toBe('hit');
    expect(after.events).toEqual(first.events);
  });

  it('reads the planList form of the same feed as the same events: nothing changes', async () => {
    body = feverFixture('plans.xml');
    expect(await sync()).toMatchObject({ ...WITH_444, upserted: 0, unchanged: 2 });
  });

  it('invalidates the cache after a changed ingest', async () => {
    body = feverFixture('response_1.xml');
    expect((await search(ACCEPTANCE_WINDOW)).cache).toBe('hit');
    expect(await sync()).toMatchObject({ upserted: 1, unchanged: 2, changed: true });
    const after = await search(ACCEPTANCE_WINDOW);
    expect(after.cache).toBe('miss');
    expect(after.events.find((event) => event.title === 'Camela en concierto')?.end_time).toBe(
      '22:00:00',
    );
  });

  it('keeps every stored event when the feed breaks, and records why', async () => {
    const before = await db.event.findMany({ orderBy: { externalKey: 'asc' } });
    body = 'garbage';
    await expect(sync()).rejects.toThrow(/XML|xml/);
    body = 500;
    await expect(sync()).rejects.toThrow(/500/);
    expect(await db.event.findMany({ orderBy: { externalKey: 'asc' } })).toEqual(before);
    const run = await new SyncRunRepository(db).latest(provider.id);
    expect(run).toMatchObject({ status: 'failed', error: expect.stringContaining('500') });
    expect((await search(ACCEPTANCE_WINDOW)).events).toHaveLength(3);
  });
});
