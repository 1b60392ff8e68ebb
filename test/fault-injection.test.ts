// Issue 4's fault-injection suite: a misbehaving provider (the chaos server) against the real sync
// processor, BullMQ jobs on Redis and Postgres. For every fault: the classification the queue acts
// on, no stored event changed, and the reason kept on the sync run.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Worker } from 'bullmq';
import { SearchCache } from '@marquee/cache';
import { SyncRunRepository, type Provider } from '@marquee/db';
import { fetchPayload, FetchError } from '@marquee/fetch';
import { readBreakerStatuses } from '@marquee/provider-status';
import { QUEUE_NAMES, type IngestQueue } from '@marquee/queue';
import {
  eventually,
  feverFeed,
  startNode,
  startChaosServer,
  startFeedServer,
  workerTestEnv,
  type ChaosFault,
  type ChaosServer,
  type FeedServer,
  type JobOutcome,
} from '@marquee/testing';
import {
  passThrough,
  type SyncSummary,
  type WorkerRuntime,
  type WorkerRuntimeOverrides,
} from '@marquee/worker';
import { startJobRunnerStack, type JobRunnerStack } from './job-runner.stack.ts';

const FEED = feverFeed(10);

let stack: JobRunnerStack;
let queue: IngestQueue;
let chaos: ChaosServer;
let syncRuns: SyncRunRepository;
let cache: SearchCache;

beforeAll(async () => {
  stack = await startJobRunnerStack('faults');
  ({ queue } = stack);
  syncRuns = new SyncRunRepository(stack.db);
  cache = new SearchCache({ redis: stack.redis, prefix: stack.prefix, ttlSeconds: 60 });
  chaos = await startChaosServer({
    feed: FEED,
    oversizedBytes: 4 * 1024 * 1024,
    robotsBytes: 90 * 1024 * 1024,
  });
});

afterAll(async () => {
  await chaos.close();
  await stack.close();
});

/**
 * A worker runtime as the service builds it, on this file's database and Redis; without the
 * circuit breaker unless `env` configures one (`breaker: true`).
 */
function runtimeWith(
  env: NodeJS.ProcessEnv = {},
  overrides: WorkerRuntimeOverrides & { breaker?: boolean } = {},
): WorkerRuntime {
  const { breaker, ...rest } = overrides;
  return stack.runtime(
    {
      FETCH_TIMEOUT_MS: '1500',
      FETCH_CONNECT_TIMEOUT_MS: '1000',
      FETCH_MAX_BYTES: String(1024 * 1024),
      FETCH_USER_AGENT: 'marquee-fault-test',
      SHRINK_GUARD_RATIO: '0.5',
      ...env,
    },
    { ...(!breaker && { links: { breaker: passThrough } }), ...rest },
  );
}

let plain: WorkerRuntime | undefined;

type Outcome = JobOutcome<SyncSummary>;

/** Enqueues one sync of `provider`, runs the pipeline on it, reports what BullMQ would do. */
async function sync(
  provider: Provider,
  runtime: WorkerRuntime = (plain ??= runtimeWith()),
): Promise<{ outcome: Outcome; jobId: string }> {
  return stack.runner.run(provider.id, runtime.processSync);
}

async function eventSnapshot(providerId: string) {
  return stack.db.event.findMany({
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

/** A fever-xml provider, or an HTML one (`jsonld-html`, one page) when `html` is set. */
async function addProvider(name: string, url: string, html = false): Promise<Provider> {
  return stack.providers.create({
    name,
    kind: html ? 'jsonld-html' : 'fever-xml',
    url,
    everySeconds: 300,
    timezone: 'UTC',
    ...(html && { config: { maxPages: 1 } }),
  });
}

async function pointAt(provider: Provider, url: string): Promise<Provider> {
  return stack.db.provider.update({ where: { id: provider.id }, data: { url } });
}

describe('chaos provider faults', () => {
  let provider: Provider;

  beforeAll(async () => {
    provider = await addProvider('chaos', chaos.urlOf('ok'));
    const { outcome } = await sync(provider);
    expect(outcome.kind).toBe('completed');
    expect(await stack.db.event.count({ where: { providerId: provider.id } })).toBe(10);
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
    ['redirect-ecs-credentials', 'unrecoverable', /169\.254\.170\.2 \(cloud metadata address\)/],
    ['redirect-nat64-metadata', 'unrecoverable', /64:ff9b::a9fe:a9fe \(cloud metadata address\)/],
    ['redirect-metadata-host', 'unrecoverable', /metadata\.google\.internal \(cloud metadata/],
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
      // A delayed job is not a failure: its run waits until the job is due again.
      expect(run?.status).toBe(kind === 'delayed' ? 'waiting' : 'failed');
      expect(run?.error).toMatch(reason);
      if (outcome.kind === 'delayed') {
        expect(run?.resumesAt?.getTime()).toBe(outcome.delayedUntil);
      }
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
  it.each([
    [
      'a 304 to the conditional GET writes nothing and keeps the cache',
      'etag',
      'ok',
      { status: 'succeeded', flag: 'unchanged', unchanged: 10 },
    ],
    [
      'an identical payload without validators is recognised by its content hash, unparsed',
      'hash',
      'ok-no-validators',
      // parsed 0: taken for unchanged before the parse (see the next describe block).
      { status: 'succeeded', flag: 'unchanged', fetched: 0, parsed: 0, unchanged: 10 },
    ],
  ] as const)('%s', async (_title, name, fault, run) => {
    const provider = await addProvider(name, chaos.urlOf(fault));
    expect((await sync(provider)).outcome.kind).toBe('completed');
    const before = await eventSnapshot(provider.id);
    const version = await cache.version();
    const hits = chaos.hits.get(`/${fault}`) ?? 0;

    const { outcome, jobId } = await sync(provider);
    expect(outcome).toMatchObject({ kind: 'completed', summary: { changed: false, upserted: 0 } });
    expect(chaos.hits.get(`/${fault}`)).toBe(hits + 1);
    expect(await syncRuns.findByJobId(jobId)).toMatchObject(run);
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
      runtimeWith({ FETCH_MAX_BYTES: String(8 * 1024 * 1024) }, { now: () => when }),
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
    const events = await stack.db.event.findMany({
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
    expect((await sync(provider, runtimeWith({}, { now: () => t0 }))).outcome.kind).toBe(
      'completed',
    );

    // Four of ten left, one of them renamed; two hours later (past markSeen's granularity).
    body = Buffer.from(
      feverFeed(4).toString().replace('title="Event 1"', 'title="Event 1 (moved)"'),
    );
    const t1 = new Date('2030-01-01T02:00:00Z');
    const atT1 = runtimeWith({}, { now: () => t1 });
    const { outcome, jobId } = await sync(provider, atT1);
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
    const empty = await sync(provider, atT1);
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
    const back = await sync(provider, atT1);
    expect(await syncRuns.findByJobId(back.jobId)).toMatchObject({ flag: null, upserted: 1 });
    const restored = await eventSnapshot(provider.id);
    expect(restored.find((event) => event.externalKey === '1/1')?.title).toBe('Event 1');
    expect(restored.find((event) => event.externalKey === '2/2')?.lastSeenAt).toEqual(t1);
  });
});

describe('circuit breaker', () => {
  /** Breaker settings as BREAKER_* variables; times in ms. */
  const breakerEnv = (volume: number, resetMs: number) => ({
    BREAKER_TIMEOUT_MS: '5000',
    BREAKER_ERROR_THRESHOLD_PERCENT: '50',
    BREAKER_VOLUME_THRESHOLD: String(volume),
    BREAKER_RESET_TIMEOUT_MS: String(resetMs),
    BREAKER_WINDOW_MS: '60000',
  });

  it('opens after repeated transient failures, then skips jobs (delayed until the probe) without fetching or spending attempts', async () => {
    const runtime = runtimeWith(breakerEnv(3, 60_000), { breaker: true });
    const { breakers } = runtime;
    // 404s are the provider's answer about one URL, not an outage: they never trip it.
    const provider = await addProvider('breaker', `${chaos.url}/no-such-feed`);
    for (let i = 0; i < 4; i++) {
      expect((await sync(provider, runtime)).outcome.kind).toBe('unrecoverable');
    }
    expect(breakers.state(provider.id)).toBe('closed');

    // The 404s count as calls, not failures: 5 failures of 9 calls is the first share over 50%.
    const failing = await pointAt(provider, chaos.urlOf('http-500'));
    for (let i = 0; i < 5; i++) {
      expect((await sync(failing, runtime)).outcome.kind).toBe('transient');
    }
    expect(breakers.state(provider.id)).toBe('open');
    const hits = chaos.hits.get('/http-500');

    const started = Date.now();
    const { outcome, jobId } = await sync(failing, runtime);
    expect(outcome.kind).toBe('delayed');
    if (outcome.kind === 'delayed') {
      expect(outcome.attemptsMade).toBe(0);
      expect(outcome.delayedUntil).toBeGreaterThan(started + 50_000);
    }
    expect(chaos.hits.get('/http-500')).toBe(hits);
    const run = await syncRuns.findByJobId(jobId);
    expect(run?.status).toBe('skipped');
    const probe = /^circuit breaker open \(provider breaker\); next probe at (\S+Z)$/.exec(
      run?.error ?? '',
    );
    expect(probe).not.toBeNull();
    const probeAt = Date.parse(probe?.[1] ?? '');
    expect(probeAt).toBeGreaterThan(started + 50_000);
    if (outcome.kind === 'delayed')
      expect(Math.abs(probeAt - outcome.delayedUntil)).toBeLessThan(2_000);

    const statuses = await readBreakerStatuses(stack.redis, stack.prefix, [
      provider.id,
      randomUUID(),
    ]);
    expect(statuses.size).toBe(1);
    expect(statuses.get(provider.id)).toMatchObject({
      state: 'open',
      lastError: expect.stringMatching(/HTTP 500/) as unknown as string,
    });
    expect(Date.parse(statuses.get(provider.id)?.probeAt ?? '')).toBeGreaterThan(started);
  });

  it('half-open: one successful probe closes it', async () => {
    const runtime = runtimeWith(breakerEnv(2, 300), { breaker: true });
    const { breakers } = runtime;
    const provider = await addProvider('probe', chaos.urlOf('http-500'));
    for (let i = 0; i < 2; i++) await sync(provider, runtime);
    // Opened: half-open only ever follows open, and a loaded machine may take the 300 ms reset
    // timeout to finish the second sync's job.
    expect(['open', 'halfOpen']).toContain(breakers.state(provider.id));
    await eventually(
      () => Promise.resolve(breakers.state(provider.id) === 'halfOpen' || undefined),
      5_000,
      'the breaker to half-open',
    );
    const healthy = await pointAt(provider, chaos.urlOf('ok-no-validators'));
    expect((await sync(healthy, runtime)).outcome.kind).toBe('completed');
    expect(breakers.state(provider.id)).toBe('closed');
    const statuses = await readBreakerStatuses(stack.redis, stack.prefix, [provider.id]);
    expect(statuses.get(provider.id)?.state).toBe('closed');
    expect(statuses.get(provider.id)?.probeAt).toBeUndefined();
  });
});

describe('provider-imposed delays', () => {
  it('a far Retry-After (seconds or an HTTP date) is cut to RETRY_AFTER_MAX_SECONDS', async () => {
    const runtime = runtimeWith({ RETRY_AFTER_MAX_SECONDS: '120' });
    const provider = await addProvider('far-retry', chaos.urlOf('http-429-forever'));
    for (const fault of ['http-429-forever', 'http-503-far-date'] as const) {
      const pointed = await pointAt(provider, chaos.urlOf(fault));
      const started = Date.now();
      const { outcome } = await sync(pointed, runtime);
      expect(outcome.kind).toBe('delayed');
      if (outcome.kind === 'delayed') {
        expect(outcome.attemptsMade).toBe(0);
        expect(outcome.delayedUntil).toBeGreaterThanOrEqual(started + 119_000);
        expect(outcome.delayedUntil).toBeLessThanOrEqual(Date.now() + 120_000);
      }
    }
  });

  it('a provider that only answers 429 is dead-lettered after RATE_LIMIT_MAX_DELAYS delays', async () => {
    const runtime = runtimeWith({ RETRY_AFTER_MAX_SECONDS: '1', RATE_LIMIT_MAX_DELAYS: '2' });
    const provider = await addProvider('always-429', chaos.urlOf('http-429-forever'));
    const hits = chaos.hits.get('/http-429-forever') ?? 0;
    const worker = runtime.createWorker();
    void worker.run();
    try {
      const job = await queue.enqueueSync({ providerId: provider.id, trigger: 'manual' });
      // The state first, then the job: a job read before its move to failed (one script) still
      // says 0 attempts, even when the state asked right after says failed.
      const failed = await eventually(
        async () =>
          (await queue.queue.getJobState(job.id ?? '')) === 'failed'
            ? queue.queue.getJob(job.id ?? '')
            : undefined,
        20_000,
        'the rate-limited job to fail for good',
      );
      // Two delays of one second (the cap), then the third 429 ends it; no attempt was retried.
      expect(chaos.hits.get('/http-429-forever')).toBe(hits + 3);
      expect(failed?.attemptsMade).toBe(1);
      expect(failed?.failedReason).toMatch(
        /HTTP 429 .*rate-limited this sync 3 times, more than RATE_LIMIT_MAX_DELAYS \(2\)/,
      );
      const runs = await stack.db.syncRun.findMany({
        where: { providerId: provider.id },
        orderBy: { startedAt: 'asc' },
      });
      // Each delay's run waited; the run of the 429 past the budget ends the job: failed.
      expect(runs.map((run) => run.status)).toEqual(['waiting', 'waiting', 'failed']);
      expect(runs[2]?.error).toMatch(/RATE_LIMIT_MAX_DELAYS/);
      expect(runs[2]?.resumesAt).toBeNull();
      // BullMQ marks the job failed before this process's worker hears of it and counts it.
      const metrics = await eventually(
        async () => {
          const text = await runtime.registry.getSingleMetricAsString('marquee_dead_letters_total');
          return /provider="always-429"/.test(text) ? text : undefined;
        },
        10_000,
        'the dead letter counted',
      );
      expect(metrics).toMatch(/provider="always-429"[^\n]* 1$/m);
    } finally {
      await worker.close();
    }
  });
});

describe('a 90 MB robots.txt', () => {
  it('only its first 500 KiB are read and stored, and only their rules apply', async () => {
    const runtime = runtimeWith({ FETCH_MAX_BYTES: String(100 * 1024 * 1024) });
    // `Disallow: /` comes after the first 500 KiB: not applied, so the page is synced.
    const open = await addProvider('robots-huge', chaos.urlOf('event-page'), true);
    const { outcome } = await sync(open, runtime);
    expect(outcome).toMatchObject({ kind: 'completed', summary: { upserted: 1 } });
    const key = `${stack.prefix}:robots:${new URL(chaos.url).origin}`;
    const stored = await stack.redis.strlen(key);
    expect(stored).toBeGreaterThan(400 * 1024);
    expect(stored).toBeLessThanOrEqual(500 * 1024);
    // The transfer stopped soon after the limit (socket buffers aside), far before 90 MB.
    expect(chaos.robotsBytesSent()).toBeLessThan(16 * 1024 * 1024);

    // `Disallow: /private` is in the first 500 KiB: applied, from the stored copy.
    const hits = chaos.hits.get('/robots.txt');
    const closed = await addProvider('robots-private', `${chaos.url}/private/event-page`, true);
    const refused = await sync(closed, runtime);
    expect(refused.outcome.kind).toBe('unrecoverable');
    if (refused.outcome.kind === 'unrecoverable') {
      expect(refused.outcome.error.message).toMatch(/disallows \/private\/event-page/);
    }
    expect(chaos.hits.get('/robots.txt')).toBe(hits);
  });
});

describe('bounded parsing', () => {
  it('a 4 MB page of tiny nested elements fails its sync for good, naming the limit, before any DOM is built', async () => {
    const runtime = runtimeWith({ FETCH_MAX_BYTES: String(8 * 1024 * 1024) });
    const provider = await addProvider('nested', chaos.urlOf('nested-elements-page'), true);
    const { outcome, jobId } = await sync(provider, runtime);
    expect(outcome.kind).toBe('unrecoverable');
    const limit = /HTML page has more than 100000 elements, over the parse limit PARSE_MAX_NODES/;
    if (outcome.kind === 'unrecoverable') expect(outcome.error.message).toMatch(limit);
    expect(await syncRuns.findByJobId(jobId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(limit) as unknown as string,
    });
  });

  it('PARSE_MAX_HTML_MB refuses a larger page by its size', async () => {
    const runtime = runtimeWith({
      FETCH_MAX_BYTES: String(8 * 1024 * 1024),
      PARSE_MAX_HTML_MB: '1',
    });
    const provider = await addProvider('too-big-page', chaos.urlOf('nested-elements-page'), true);
    const { outcome } = await sync(provider, runtime);
    expect(outcome.kind).toBe('unrecoverable');
    if (outcome.kind === 'unrecoverable') {
      expect(outcome.error.message).toMatch(/over the parse limit PARSE_MAX_HTML_MB \(1 MB\)/);
    }
  });

  it('a worker process with a 256 MB heap survives the page and keeps syncing other providers', async () => {
    const bomb = await addProvider('nested-process', chaos.urlOf('nested-elements-page'), true);
    const healthy = await addProvider('healthy-process', chaos.urlOf('ok-no-validators'));
    const worker = startNode(
      ['--max-old-space-size=256', '--import', 'tsx', 'services/worker/src/main.ts'],
      workerTestEnv(stack.database.url, stack.prefix, { WORKER_CONCURRENCY: '2' }),
    );
    try {
      const bombJob = await queue.enqueueSync({ providerId: bomb.id, trigger: 'manual' });
      const healthyJob = await queue.enqueueSync({ providerId: healthy.id, trigger: 'manual' });
      const stateOf = (id: string | undefined) => queue.queue.getJobState(id ?? '');
      await eventually(
        async () =>
          (await stateOf(bombJob.id)) === 'failed' && (await stateOf(healthyJob.id)) === 'completed'
            ? true
            : undefined,
        90_000,
        () => `the page's sync to fail and the healthy one to complete\n${worker.output()}`,
      );
      const failed = await queue.queue.getJob(bombJob.id ?? '');
      expect(failed?.failedReason).toMatch(/PARSE_MAX_NODES/);
      expect(worker.child.exitCode).toBeNull();
      // Still syncing after the page: the healthy provider once more.
      const again = await queue.enqueueSync({ providerId: healthy.id, trigger: 'manual' });
      await eventually(
        async () => ((await stateOf(again.id)) === 'completed' ? true : undefined),
        60_000,
        () => `the second healthy sync\n${worker.output()}`,
      );
      const runs = await stack.db.syncRun.findMany({
        where: { providerId: { in: [bomb.id, healthy.id] } },
      });
      expect(runs.filter((run) => run.status === 'running')).toEqual([]);
    } finally {
      await worker.stop(10_000);
    }
  }, 180_000);
});

describe('payload budget (WORKER_MAX_INFLIGHT_MB)', () => {
  it('four concurrent syncs never hold more payload than the budget; each waits its turn and all complete', async () => {
    // Four ~600 KB feeds (each with its Content-Length) under a 1 MiB budget: one at a time.
    const body = feverFeed(1_800);
    expect(body.length).toBeGreaterThan(512 * 1024);
    const feed = await startFeedServer((_request, response) =>
      response
        .writeHead(200, { 'content-type': 'application/xml', 'content-length': body.length })
        .end(body),
    );
    const runtime = runtimeWith({
      WORKER_CONCURRENCY: '4',
      WORKER_MAX_INFLIGHT_MB: '1',
      FETCH_MAX_BYTES: String(8 * 1024 * 1024),
    });
    const worker = runtime.createWorker();
    void worker.run();
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, runtime.deps.budget.reserved)), 2);
    try {
      const providers = [];
      for (let i = 0; i < 4; i++) {
        providers.push(await addProvider(`budget-${i}`, `${feed.url}/feed-${i}.xml`));
      }
      const jobs = await Promise.all(
        providers.map((provider) =>
          queue.enqueueSync({ providerId: provider.id, trigger: 'manual' }),
        ),
      );
      await eventually(
        async () => {
          const states = await Promise.all(
            jobs.map((job) => queue.queue.getJobState(job.id ?? '')),
          );
          return states.every((state) => state === 'completed') ? true : undefined;
        },
        60_000,
        'the four syncs to complete',
      );
      // The syncs that found the budget taken stopped after the headers and fetched again.
      const hits = [...feed.hits.values()].reduce((sum, count) => sum + count, 0);
      expect(hits).toBeGreaterThan(4);
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThanOrEqual(1024 * 1024);
      expect(runtime.deps.budget.reserved).toBe(0);
    } finally {
      clearInterval(sampler);
      await worker.close();
      await feed.close();
    }
  });
});

describe('no sync run stays running after its job ended', () => {
  it('a job its workers died in twice is failed by BullMQ without running; its last run is closed', async () => {
    const provider = await addProvider('stalls-twice', chaos.urlOf('ok-no-validators'));
    const fast = { lockDuration: 1_000, stalledInterval: 1_000 };
    const pullerRedis = stack.redis.duplicate();
    // A worker that takes jobs and never renews their locks: a worker killed mid-sync.
    const dying = new Worker(QUEUE_NAMES.ingest, null, {
      connection: pullerRedis,
      prefix: stack.prefix,
      ...fast,
    });
    const checkerRedis = stack.redis.duplicate();
    const checker = new Worker(QUEUE_NAMES.ingest, null, {
      connection: checkerRedis,
      prefix: stack.prefix,
      ...fast,
    });
    const runtime = runtimeWith({
      WORKER_LOCK_DURATION_MS: '1000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    });
    try {
      const job = await queue.enqueueSync({ providerId: provider.id, trigger: 'manual' });
      const jobId = job.id ?? '';
      for (let attempt = 0; attempt < 2; attempt++) {
        const taken = await dying.getNextJob(randomUUID());
        expect(taken?.id).toBe(jobId);
        await syncRuns.openRun(provider.id, 'manual', jobId);
        // One stalled check per interval for the whole queue: a worker of an earlier test (30 s
        // interval) may have claimed the next half minute.
        await stack.redis.del(queue.queue.toKey('stalled-check'));
        void checker.startStalledCheckTimer();
        await eventually(
          async () => ((await queue.queue.getJobState(jobId)) === 'waiting' ? true : undefined),
          30_000,
          'the stalled job back in the waiting list',
        );
      }
      await checker.close();
      const worker = runtime.createWorker();
      void worker.run();
      await eventually(
        async () => ((await queue.queue.getJobState(jobId)) === 'failed' ? true : undefined),
        15_000,
        'BullMQ to fail the job that stalled twice',
      );
      const runs = await eventually(
        async () => {
          const all = await stack.db.syncRun.findMany({
            where: { jobId },
            orderBy: { startedAt: 'asc' },
          });
          return all.every((run) => run.status !== 'running') ? all : undefined;
        },
        10_000,
        'every run of the job closed',
      );
      expect(runs.map((run) => run.status)).toEqual(['failed', 'failed']);
      expect(runs[1]?.error).toBe('interrupted: job stalled more than allowable limit');
      await worker.close();
    } finally {
      await checker.close();
      await dying.close();
      await pullerRedis.quit();
      await checkerRedis.quit();
    }
  });
});
