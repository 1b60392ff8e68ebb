// Issue 4's fault-injection suite: a misbehaving provider (the chaos server) against the real sync
// processor, BullMQ jobs on Redis and Postgres. For every fault: the classification the queue acts
// on, no stored event changed, and the reason kept on the sync run.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { SearchCache } from '@marquee/cache';
import {
  createDb,
  EventRepository,
  FetchStateRepository,
  ProviderRepository,
  SyncRunRepository,
  type Db,
  type Provider,
} from '@marquee/db';
import { BreakerRegistry, FetchError, fetchPayload } from '@marquee/fetch';
import { createLogger } from '@marquee/logger';
import { readBreakerStatuses, writeBreakerStatus } from '@marquee/provider-status';
import { IngestQueue, QUEUE_NAMES, type SyncJob } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import {
  createTestDatabase,
  feverFeed,
  startChaosServer,
  startFeedServer,
  uniquePrefix,
  type ChaosFault,
  type ChaosServer,
  type FeedServer,
  type TestDatabase,
} from '@marquee/testing';
import { createSyncProcessor, type SyncSummary } from '@marquee/worker';

const logger = createLogger({ service: 'fault-test', level: 'error' });
const FEED = feverFeed(10);

let database: TestDatabase;
let db: Db;
let redis: Redis;
let prefix: string;
let queue: IngestQueue;
let puller: Worker;
let pullerRedis: Redis;
let chaos: ChaosServer;
let cache: SearchCache;
let syncRuns: SyncRunRepository;

beforeAll(async () => {
  database = await createTestDatabase('faults');
  db = createDb({ databaseUrl: database.url });
  redis = createRedis('redis://127.0.0.1:6379/0', 'blocking');
  prefix = uniquePrefix('faults');
  queue = new IngestQueue({ connection: redis, prefix });
  // No processor: the test takes each job and runs the sync processor on it, so it sees exactly
  // what the processor throws (what BullMQ acts on).
  pullerRedis = redis.duplicate();
  puller = new Worker(QUEUE_NAMES.ingest, null, { connection: pullerRedis, prefix });
  cache = new SearchCache({ redis, prefix, ttlSeconds: 60 });
  syncRuns = new SyncRunRepository(db);
  chaos = await startChaosServer({ feed: FEED, oversizedBytes: 4 * 1024 * 1024 });
});

afterAll(async () => {
  await chaos.close();
  await puller.close();
  await pullerRedis.quit();
  await queue.queue.obliterate({ force: true });
  await queue.close();
  await redis.quit();
  await db.$disconnect();
  await database.drop();
});

function processorWith(breakers?: BreakerRegistry, now?: () => Date, maxBytes = 1024 * 1024) {
  return createSyncProcessor({
    providers: new ProviderRepository(db),
    events: new EventRepository(db),
    syncRuns,
    cache,
    fetch: fetchPayload,
    fetchOptions: {
      timeoutMs: 1_500,
      connectTimeoutMs: 1_000,
      maxBytes,
      userAgent: 'marquee-fault-test',
      // Loopback is allowed for the chaos server; metadata addresses stay refused regardless.
      addressPolicy: { allowPrivate: true },
    },
    ...(breakers && { breakers }),
    fetchState: new FetchStateRepository(db),
    shrinkGuardRatio: 0.5,
    logger,
    ...(now && { now }),
  });
}

type Outcome =
  | { kind: 'completed'; summary: SyncSummary }
  | { kind: 'unrecoverable' | 'transient'; error: Error }
  | { kind: 'delayed'; delayedUntil: number; attemptsMade: number };

/** Enqueues one sync of `provider`, runs the processor on it, reports what BullMQ would do. */
async function sync(
  provider: Provider,
  process = processorWith(),
): Promise<{ outcome: Outcome; jobId: string }> {
  const added = await queue.enqueueSync({ providerId: provider.id, trigger: 'manual' });
  const token = randomUUID();
  const job = (await puller.getNextJob(token)) as Job | undefined;
  expect(job?.id).toBe(added.id);
  const syncJob = job as SyncJob;
  let outcome: Outcome;
  try {
    outcome = { kind: 'completed', summary: await process(syncJob, token) };
  } catch (error) {
    if (error instanceof DelayedError) {
      const delayed = await queue.queue.getJob(added.id ?? '');
      expect(await delayed?.getState()).toBe('delayed');
      outcome = {
        kind: 'delayed',
        delayedUntil: (delayed?.timestamp ?? 0) + (delayed?.delay ?? 0),
        attemptsMade: delayed?.attemptsMade ?? -1,
      };
    } else {
      outcome = {
        kind: error instanceof UnrecoverableError ? 'unrecoverable' : 'transient',
        error: error as Error,
      };
      await syncJob.moveToFailed(error as Error, token, false);
    }
  }
  if (outcome.kind === 'completed') await syncJob.moveToCompleted(outcome.summary, token, false);
  await queue.queue.remove(added.id ?? '');
  return { outcome, jobId: added.id ?? '' };
}

async function eventSnapshot(providerId: string) {
  return db.event.findMany({
    where: { providerId },
    orderBy: { externalKey: 'asc' },
    select: {
      externalKey: true,
      title: true,
      contentHash: true,
      updatedAt: true,
      lastSeenAt: true,
      everOnline: true,
    },
  });
}

async function addProvider(name: string, url: string): Promise<Provider> {
  return new ProviderRepository(db).create({
    name,
    kind: 'fever-xml',
    url,
    everySeconds: 300,
    timezone: 'UTC',
  });
}

async function pointAt(provider: Provider, url: string): Promise<Provider> {
  return db.provider.update({ where: { id: provider.id }, data: { url } });
}

describe('chaos provider faults', () => {
  let provider: Provider;

  beforeAll(async () => {
    provider = await addProvider('chaos', chaos.urlOf('ok'));
    const { outcome } = await sync(provider);
    expect(outcome.kind).toBe('completed');
    expect(await db.event.count({ where: { providerId: provider.id } })).toBe(10);
  });

  const cases: [ChaosFault, Outcome['kind'], RegExp][] = [
    ['http-500', 'transient', /HTTP 500/],
    ['http-503-retry-after', 'delayed', /HTTP 503.*retry after 2000 ms/],
    ['slow-drip', 'transient', /timed out after 1500 ms/],
    ['hang', 'transient', /timed out/],
    ['truncated', 'transient', /request failed/],
    ['invalid-xml', 'unrecoverable', /not well-formed XML/],
    ['billion-laughs', 'unrecoverable', /DOCTYPE with entities/],
    ['html', 'unrecoverable', /unexpected content type text\/html/],
    ['oversized', 'unrecoverable', /exceeds the limit of 1048576 bytes/],
    ['redirect-loop', 'unrecoverable', /too many redirects/],
    ['redirect-metadata', 'unrecoverable', /169\.254\.169\.254 \(cloud metadata address\)/],
  ];

  it.each(cases)(
    '%s → %s, no stored event changed, reason on the sync run',
    async (fault, kind, reason) => {
      const before = await eventSnapshot(provider.id);
      const version = await cache.version();
      provider = await pointAt(provider, chaos.urlOf(fault));
      const started = Date.now();
      const { outcome, jobId } = await sync(provider);

      expect(outcome.kind).toBe(kind);
      if (outcome.kind === 'delayed') {
        // Retry-After honoured, no attempt spent.
        expect(outcome.attemptsMade).toBe(0);
        expect(outcome.delayedUntil).toBeGreaterThanOrEqual(started + 1_900);
      }
      if (outcome.kind === 'unrecoverable' || outcome.kind === 'transient') {
        expect(outcome.error.message).toMatch(reason);
      }
      const run = await syncRuns.findByJobId(jobId);
      expect(run?.status).toBe('failed');
      expect(run?.error).toMatch(reason);
      expect(await eventSnapshot(provider.id)).toEqual(before);
      expect(await cache.version()).toBe(version);
    },
  );

  it('the oversized body is cut off at the cap, not read to the end', async () => {
    const error = await fetchPayload(chaos.urlOf('oversized'), {
      timeoutMs: 5_000,
      maxBytes: 256 * 1024,
      userAgent: 'marquee-fault-test',
      addressPolicy: { allowPrivate: true },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FetchError);
    expect((error as FetchError).message).toMatch(/received \d+ bytes so far/);
    const received = Number(/received (\d+)/.exec((error as FetchError).message)?.[1]);
    expect(received).toBeLessThan(256 * 1024 + 128 * 1024);
  });
});

describe('less work on unchanged payloads', () => {
  it('a 304 to the conditional GET writes nothing and keeps the cache', async () => {
    const provider = await addProvider('etag', chaos.urlOf('ok'));
    const first = await sync(provider);
    expect(first.outcome.kind).toBe('completed');
    const before = await eventSnapshot(provider.id);
    const version = await cache.version();
    const hits = chaos.hits.get('/ok') ?? 0;

    const { outcome, jobId } = await sync(provider);
    expect(outcome).toMatchObject({ kind: 'completed', summary: { changed: false, upserted: 0 } });
    expect(chaos.hits.get('/ok')).toBe(hits + 1);
    const run = await syncRuns.findByJobId(jobId);
    expect(run).toMatchObject({ status: 'succeeded', flag: 'unchanged', unchanged: 10 });
    expect(await eventSnapshot(provider.id)).toEqual(before);
    expect(await cache.version()).toBe(version);
  });

  it('an identical payload without validators is recognised by its content hash, unparsed', async () => {
    const provider = await addProvider('hash', chaos.urlOf('ok-no-validators'));
    expect((await sync(provider)).outcome.kind).toBe('completed');
    const before = await eventSnapshot(provider.id);
    const version = await cache.version();
    const hits = chaos.hits.get('/ok-no-validators') ?? 0;

    const { outcome, jobId } = await sync(provider);
    expect(outcome).toMatchObject({ kind: 'completed', summary: { changed: false, upserted: 0 } });
    expect(chaos.hits.get('/ok-no-validators')).toBe(hits + 1);
    const run = await syncRuns.findByJobId(jobId);
    // parsed 0: taken for unchanged before the parse (see the next describe block).
    expect(run).toMatchObject({
      status: 'succeeded',
      flag: 'unchanged',
      fetched: 0,
      parsed: 0,
      unchanged: 10,
    });
    expect(await eventSnapshot(provider.id)).toEqual(before);
    expect(await cache.version()).toBe(version);
  });
});

describe('an unchanged payload is not parsed while "last seen" is recent', () => {
  const MINUTE = 60_000;
  const t0 = new Date('2030-01-01T00:00:00Z');
  const at = (minutes: number) => new Date(t0.getTime() + minutes * MINUTE);
  let feed: FeedServer;
  let body = feverFeed(10);
  /** When set, the feed is served with this ETag and a matching If-None-Match gets a 304. */
  let etag: string | undefined;
  /** Whether each request carried If-None-Match, in order. */
  const conditional: boolean[] = [];

  beforeAll(async () => {
    feed = await startFeedServer((request, response) => {
      conditional.push(request.headers['if-none-match'] !== undefined);
      if (etag !== undefined && request.headers['if-none-match'] === etag) {
        return void response.writeHead(304).end();
      }
      response
        .writeHead(200, { 'content-type': 'application/xml', ...(etag && { etag }) })
        .end(body);
    });
  });
  afterAll(() => feed.close());

  async function syncAt(provider: Provider, when: Date) {
    const { outcome, jobId } = await sync(
      provider,
      processorWith(undefined, () => when, 8 * 1024 * 1024),
    );
    if (outcome.kind !== 'completed') throw new Error(`sync ${JSON.stringify(outcome)}`);
    return { summary: outcome.summary, run: await syncRuns.findByJobId(jobId) };
  }

  const skipped = { fetched: 0, parsed: 0, upserted: 0, unchanged: 10, changed: false };
  const lastSeen = async (provider: Provider) =>
    new Set((await eventSnapshot(provider.id)).map((event) => event.lastSeenAt.toISOString()));

  it('without validators: skipped until half the granularity has passed, then parsed and "last seen" advances', async () => {
    body = feverFeed(10);
    const provider = await addProvider('skip', `${feed.url}/skip.xml`);
    expect((await syncAt(provider, at(0))).summary).toMatchObject({ upserted: 10 });
    const before = await eventSnapshot(provider.id);
    const version = await cache.version();

    for (const minutes of [5, 29]) {
      const hits = feed.hits.get('/skip.xml') ?? 0;
      const { summary, run } = await syncAt(provider, at(minutes));
      // Fetched, but not parsed: a parse would count 10 fetched and parsed items.
      expect(feed.hits.get('/skip.xml')).toBe(hits + 1);
      expect(summary).toMatchObject(skipped);
      expect(run).toMatchObject({ status: 'succeeded', flag: 'unchanged', parsed: 0 });
      expect(await eventSnapshot(provider.id)).toEqual(before);
    }
    expect(await cache.version()).toBe(version);

    // 45 minutes after the mark: parsed; every row older than half an hour is marked seen.
    const { summary, run } = await syncAt(provider, at(45));
    expect(summary).toMatchObject({ fetched: 10, parsed: 10, upserted: 0, unchanged: 10 });
    expect(run).toMatchObject({ flag: 'unchanged', parsed: 10 });
    const after = await eventSnapshot(provider.id);
    expect(after.map((event) => event.lastSeenAt)).toEqual(before.map(() => at(45)));
    // Only "last seen" moved: no content was rewritten.
    expect(after.map((event) => event.updatedAt)).toEqual(before.map((event) => event.updatedAt));
    expect(await cache.version()).toBe(version);
    // The new mark counts from 45: skipped again.
    expect((await syncAt(provider, at(60))).summary).toMatchObject(skipped);
  });

  it('every 5 minutes for 3 hours: parsed every half hour, rows written once an hour, "last seen" lags under an hour', async () => {
    body = feverFeed(10);
    const provider = await addProvider('every-5m', `${feed.url}/every-5m.xml`);
    const parsedAt: number[] = [];
    const seen = new Set<string>();
    let maxLagMinutes = 0;
    for (let minutes = 0; minutes <= 180; minutes += 5) {
      const { summary } = await syncAt(provider, at(minutes));
      if (summary.parsed > 0) parsedAt.push(minutes);
      for (const event of await eventSnapshot(provider.id)) {
        seen.add(event.lastSeenAt.toISOString());
        const lag = (at(minutes).getTime() - event.lastSeenAt.getTime()) / MINUTE;
        maxLagMinutes = Math.max(maxLagMinutes, lag);
      }
    }
    expect(parsedAt).toEqual([0, 30, 60, 90, 120, 150, 180]);
    expect([...seen].sort()).toEqual([0, 60, 120, 180].map((m) => at(m).toISOString()));
    expect(maxLagMinutes).toBe(55);
  });

  it('a different payload is parsed and written at once, whatever the mark', async () => {
    body = feverFeed(10);
    const provider = await addProvider('differs', `${feed.url}/differs.xml`);
    await syncAt(provider, at(0));
    const version = await cache.version();
    body = Buffer.from(feverFeed(10).toString().replace('title="Event 3"', 'title="Event 3!"'));

    const { summary, run } = await syncAt(provider, at(5));
    expect(summary).toMatchObject({ parsed: 10, upserted: 1, unchanged: 9, changed: true });
    expect(run?.flag).toBeNull();
    expect(await cache.version()).toBeGreaterThan(version);
    const events = await eventSnapshot(provider.id);
    expect(events.find((event) => event.externalKey === '3/3')).toMatchObject({
      title: 'Event 3!',
      lastSeenAt: at(5),
    });
    // The others were seen 5 minutes ago: within the granularity, not rewritten.
    expect(events.find((event) => event.externalKey === '4/4')?.lastSeenAt).toEqual(at(0));
    // The new payload is now the applied one, marked at 5.
    expect((await syncAt(provider, at(10))).summary).toMatchObject(skipped);
  });

  it('with validators: the conditional GET is sent only while the mark is recent', async () => {
    body = feverFeed(10);
    etag = '"v1"';
    try {
      const provider = await addProvider('validators', `${feed.url}/validators.xml`);
      await syncAt(provider, at(0));
      expect(conditional.at(-1)).toBe(false);

      expect((await syncAt(provider, at(10))).summary).toMatchObject(skipped);
      expect(conditional.at(-1)).toBe(true);
      expect(await lastSeen(provider)).toEqual(new Set([at(0).toISOString()]));

      // Past half the granularity the payload is fetched in full, parsed and marked seen.
      const { summary } = await syncAt(provider, at(45));
      expect(conditional.at(-1)).toBe(false);
      expect(summary).toMatchObject({ parsed: 10, upserted: 0, unchanged: 10 });
      expect(await lastSeen(provider)).toEqual(new Set([at(45).toISOString()]));

      expect((await syncAt(provider, at(50))).summary).toMatchObject(skipped);
      expect(conditional.at(-1)).toBe(true);
    } finally {
      etag = undefined;
    }
  });

  it('"last seen" is applied when every key but one was rewritten and a key repeats across streamed batches', async () => {
    // More events than one streamed batch (2,000), so the repeated key comes in a later batch:
    // the upsert then writes as many rows as there are distinct keys, one of them twice, and
    // leaves the unchanged event 2 alone, which markSeen must still reach.
    const count = 5_000;
    const feedOf = (prefix: string) => feverFeed(count, prefix).toString();
    const repeatOne = (xml: string) => {
      const first = /<base_event base_event_id="1" [\s\S]*?<\/base_event>/.exec(xml)?.[0] ?? '';
      return xml.replace(
        '</output>',
        `${first.replace('title="Again 1"', 'title="Last 1"')}</output>`,
      );
    };
    body = Buffer.from(feedOf('Event'));
    const provider = await addProvider('repeat', `${feed.url}/repeat.xml`);
    await syncAt(provider, at(0));
    body = Buffer.from(repeatOne(feedOf('Again').replace('title="Again 2"', 'title="Event 2"')));

    const { summary } = await syncAt(provider, at(120));
    // Every key but 2/2 rewritten, 1/1 twice: as many rows written as distinct keys.
    expect(summary).toMatchObject({
      fetched: count + 1,
      parsed: count,
      rejected: 1,
      upserted: count,
    });
    const events = await db.event.findMany({
      where: { providerId: provider.id, externalKey: { in: ['1/1', '2/2'] } },
      orderBy: { externalKey: 'asc' },
    });
    expect(events.map((event) => [event.title, event.lastSeenAt])).toEqual([
      ['Last 1', at(120)],
      ['Event 2', at(120)],
    ]);
  });
});

describe('shrink guard', () => {
  let feed: FeedServer;
  let body = feverFeed(10);

  beforeAll(async () => {
    feed = await startFeedServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'application/xml' }).end(body),
    );
  });
  afterAll(() => feed.close());

  it('a feed that loses more than half its events is flagged: upserts apply, "last seen" does not', async () => {
    const provider = await addProvider('shrink', `${feed.url}/feed.xml`);
    const t0 = new Date('2030-01-01T00:00:00Z');
    expect(
      (
        await sync(
          provider,
          processorWith(undefined, () => t0),
        )
      ).outcome.kind,
    ).toBe('completed');

    // Four of ten left, one of them renamed; two hours later (past markSeen's granularity).
    body = Buffer.from(
      feverFeed(4).toString().replace('title="Event 1"', 'title="Event 1 (moved)"'),
    );
    const t1 = new Date('2030-01-01T02:00:00Z');
    const { outcome, jobId } = await sync(
      provider,
      processorWith(undefined, () => t1),
    );
    expect(outcome.kind).toBe('completed');
    const run = await syncRuns.findByJobId(jobId);
    expect(run).toMatchObject({ status: 'succeeded', flag: 'shrunk', parsed: 4, upserted: 1 });
    const events = await eventSnapshot(provider.id);
    expect(events).toHaveLength(10);
    const renamed = events.find((event) => event.externalKey === '1/1');
    expect(renamed?.title).toBe('Event 1 (moved)');
    // Unchanged survivors were not marked as seen at t1.
    expect(events.find((event) => event.externalKey === '2/2')?.lastSeenAt).toEqual(t0);

    // Empty: nothing written at all.
    body = feverFeed(0);
    const before = await eventSnapshot(provider.id);
    const empty = await sync(
      provider,
      processorWith(undefined, () => t1),
    );
    expect(await syncRuns.findByJobId(empty.jobId)).toMatchObject({
      status: 'succeeded',
      flag: 'empty',
      parsed: 0,
      upserted: 0,
    });
    expect(await eventSnapshot(provider.id)).toEqual(before);

    // The full feed again is applied as usual (the reference stayed at ten), and not taken for
    // "unchanged" although it equals the last applied payload: the shrunk run rewrote a row.
    body = feverFeed(10);
    const back = await sync(
      provider,
      processorWith(undefined, () => t1),
    );
    expect(await syncRuns.findByJobId(back.jobId)).toMatchObject({ flag: null, upserted: 1 });
    const restored = await eventSnapshot(provider.id);
    expect(restored.find((event) => event.externalKey === '1/1')?.title).toBe('Event 1');
    expect(restored.find((event) => event.externalKey === '2/2')?.lastSeenAt).toEqual(t1);
  });
});

describe('circuit breaker', () => {
  it('opens after repeated transient failures, then delays jobs without fetching or spending attempts', async () => {
    const published: string[] = [];
    const breakers = new BreakerRegistry(
      {
        timeoutMs: 5_000,
        errorThresholdPercentage: 50,
        volumeThreshold: 3,
        resetTimeoutMs: 60_000,
        windowMs: 60_000,
      },
      async (providerId, status) => {
        published.push(status.state);
        await writeBreakerStatus(redis, prefix, providerId, status);
      },
      logger,
    );
    const process = processorWith(breakers);
    try {
      // 404s are the provider's answer about one URL, not an outage: they never trip it.
      const provider = await addProvider('breaker', `${chaos.url}/no-such-feed`);
      for (let i = 0; i < 4; i++) {
        expect((await sync(provider, process)).outcome.kind).toBe('unrecoverable');
      }
      expect(breakers.state(provider.id)).toBe('closed');

      // The 404s count as calls, not failures: 5 failures of 9 calls is the first share over 50%.
      const failing = await pointAt(provider, chaos.urlOf('http-500'));
      for (let i = 0; i < 5; i++) {
        expect((await sync(failing, process)).outcome.kind).toBe('transient');
      }
      expect(breakers.state(provider.id)).toBe('open');
      const hits = chaos.hits.get('/http-500');

      const started = Date.now();
      const { outcome, jobId } = await sync(failing, process);
      expect(outcome.kind).toBe('delayed');
      if (outcome.kind === 'delayed') {
        expect(outcome.attemptsMade).toBe(0);
        expect(outcome.delayedUntil).toBeGreaterThan(started + 50_000);
      }
      expect(chaos.hits.get('/http-500')).toBe(hits);
      expect((await syncRuns.findByJobId(jobId))?.error).toMatch(
        /circuit breaker of breaker is open \(last error: HTTP 500/,
      );

      const statuses = await readBreakerStatuses(redis, prefix, [provider.id, randomUUID()]);
      expect(statuses.size).toBe(1);
      expect(statuses.get(provider.id)).toMatchObject({
        state: 'open',
        lastError: expect.stringMatching(/HTTP 500/) as unknown as string,
      });
      expect(Date.parse(statuses.get(provider.id)?.probeAt ?? '')).toBeGreaterThan(started);
      expect(published).toContain('open');
    } finally {
      breakers.shutdown();
    }
  });

  it('half-open: one successful probe closes it', async () => {
    const breakers = new BreakerRegistry(
      {
        timeoutMs: 5_000,
        errorThresholdPercentage: 50,
        volumeThreshold: 2,
        resetTimeoutMs: 300,
        windowMs: 60_000,
      },
      (providerId, status) => writeBreakerStatus(redis, prefix, providerId, status),
      logger,
    );
    const process = processorWith(breakers);
    try {
      const provider = await addProvider('probe', chaos.urlOf('http-500'));
      for (let i = 0; i < 2; i++) await sync(provider, process);
      expect(breakers.state(provider.id)).toBe('open');
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(breakers.state(provider.id)).toBe('halfOpen');
      const healthy = await pointAt(provider, chaos.urlOf('ok-no-validators'));
      expect((await sync(healthy, process)).outcome.kind).toBe('completed');
      expect(breakers.state(provider.id)).toBe('closed');
      const statuses = await readBreakerStatuses(redis, prefix, [provider.id]);
      expect(statuses.get(provider.id)?.state).toBe('closed');
      expect(statuses.get(provider.id)?.probeAt).toBeUndefined();
    } finally {
      breakers.shutdown();
    }
  });
});
