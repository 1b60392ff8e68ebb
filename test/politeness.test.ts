// Issue 4 item 6: per-host politeness shared by all workers through Redis, and robots.txt for
// HTML kinds, against real HTTP servers on 127.0.0.1, real Redis and Postgres.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { type Db, type Provider } from '@marquee/db';
import {
  fetchPayload,
  HostLeaseGate,
  RobotsGuard,
  type FetchOptions,
  type HostLeaseOptions,
} from '@marquee/fetch';
import { startFeedServer, uniquePrefix, type FeedServer } from '@marquee/testing';
import { hostLeaseLink, robotsLink, type WorkerRuntime } from '@marquee/worker';
import { startJobRunnerStack, type JobRunnerStack } from './job-runner.stack.ts';

const USER_AGENT = 'Marquee/0.1 (+https://github.com/marquee-events/marquee)';
const FETCH_OPTIONS: FetchOptions = {
  timeoutMs: 5_000,
  maxBytes: 1024 * 1024,
  userAgent: USER_AGENT,
  addressPolicy: { allowPrivate: true },
};
const PAGE = `<!doctype html><html><head><script type="application/ld+json">
{"@context":"https://schema.org","@type":"Event","name":"Polite gig","startDate":"2030-05-01T20:00",
 "url":"https://example.com/e/1","location":{"@type":"Place","name":"Hall","address":"London"}}
</script></head><body></body></html>`;

let stack: JobRunnerStack;
let db: Db;
let redis: Redis;
let prefix: string;
const extraRedis: Redis[] = [];

beforeAll(async () => {
  stack = await startJobRunnerStack('polite');
  ({ db, redis, prefix } = stack);
});

afterAll(async () => {
  await Promise.all(extraRedis.map((connection) => connection.quit()));
  await stack.close();
});

/**
 * A gate on a Redis connection of its own: what one worker process has. `onSlotRefused` hears
 * each time the lease script refuses it for want of a free slot (its reply `[2, ms]`).
 */
function workerGate(
  options: Partial<HostLeaseOptions> = {},
  onSlotRefused?: () => void,
): HostLeaseGate {
  const connection = redis.duplicate();
  extraRedis.push(connection);
  const evaluate = connection.eval.bind(connection);
  const watched = new Proxy(connection, {
    get: (target, property) =>
      property === 'eval' && onSlotRefused
        ? async (...args: Parameters<typeof evaluate>) => {
            const reply = await evaluate(...args);
            if (Array.isArray(reply) && reply[0] === 2) onSlotRefused();
            return reply;
          }
        : (Reflect.get(target, property) as unknown),
  });
  return new HostLeaseGate(watched, prefix, {
    concurrency: 2,
    minDelayMs: 400,
    leaseTtlMs: 10_000,
    maxWaitMs: 20_000,
    ...options,
  });
}

/** The worker runtime with this gate and robots.txt guard in its fetch chain. */
function runtimeWith(gate?: HostLeaseGate, robots?: RobotsGuard): WorkerRuntime {
  return stack.runtime(
    { FETCH_TIMEOUT_MS: '5000', FETCH_USER_AGENT: USER_AGENT },
    {
      links: {
        ...(gate && { hostLease: hostLeaseLink(gate) }),
        ...(robots && { robots: robotsLink(robots) }),
      },
    },
  );
}

type Outcome = 'completed' | 'unrecoverable' | 'transient' | 'delayed';

/** Enqueues one sync, runs the pipeline on it, reports what BullMQ would do with the job. */
async function sync(
  provider: Provider,
  runtime: WorkerRuntime,
): Promise<{ outcome: Outcome; error?: Error; attemptsMade?: number }> {
  const { outcome } = await stack.runner.run(provider.id, runtime.processSync);
  switch (outcome.kind) {
    case 'completed':
      return { outcome: 'completed' };
    case 'delayed':
      return { outcome: 'delayed', attemptsMade: outcome.attemptsMade };
    default:
      return { outcome: outcome.kind, error: outcome.error };
  }
}

async function addHtmlProvider(name: string, url: string): Promise<Provider> {
  return stack.providers.create({
    name,
    kind: 'jsonld-html',
    url,
    everySeconds: 300,
    timezone: 'UTC',
    config: { maxPages: 1 },
  });
}

describe('per-host politeness shared through Redis', () => {
  const REQUESTS = 8;
  let server: FeedServer;
  const spans: { start: number; end: number }[] = [];
  /** Answers the server holds back, oldest first. */
  const held: (() => void)[] = [];
  let slotRefusedSinceArrival = false;

  /**
   * A request is answered only once two are in flight and the gate has refused a later one for
   * want of a slot: so two always overlap, and without the limit a third would arrive. Three in
   * flight (no limit) or every request arrived: all are answered, and the assertions tell.
   */
  function answerWhenDue(): void {
    if (held.length >= 3 || spans.length === REQUESTS) {
      for (const answer of held.splice(0)) answer();
    } else if (held.length === 2 && slotRefusedSinceArrival) {
      held.shift()?.();
    }
  }

  beforeAll(async () => {
    server = await startFeedServer((request, response) => {
      // robots.txt (read by the runtime of the busy-host test) is answered at once.
      if (!request.url?.startsWith('/page/')) {
        response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      const span = { start: performance.now(), end: Infinity };
      spans.push(span);
      held.push(() => {
        span.end = performance.now();
        response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
      slotRefusedSinceArrival = false;
      answerWhenDue();
    });
  });
  afterAll(() => server.close());

  it('two workers never exceed the concurrency and keep the min delay between starts', async () => {
    const slotRefused = () => {
      slotRefusedSinceArrival = true;
      answerWhenDue();
    };
    const workers = [workerGate({}, slotRefused), workerGate({}, slotRefused)];
    const key = workers[0]!.keyOf(new URL(server.url).host);
    // Each lease as Redis granted it (field → expiry, Redis' clock): read while it is held.
    const leases = new Map<string, number>();
    await Promise.all(
      workers.flatMap((gate) =>
        [1, 2, 3, 4].map((n) =>
          gate.around(`${server.url}/page/${n}`, async () => {
            for (const [field, expiry] of Object.entries(await redis.hgetall(key)))
              if (field.startsWith('lease:')) leases.set(field, Number(expiry));
            return fetchPayload(`${server.url}/page/${n}`, FETCH_OPTIONS);
          }),
        ),
      ),
    );
    expect(spans).toHaveLength(REQUESTS);
    expect(leases.size).toBe(REQUESTS);
    // Grants by Redis' clock, the one the gate spaces them by: arrival at the server jitters
    // on a loaded machine, these do not. Without the gate the gaps are ~0.
    const grants = [...leases.values()].map((expiry) => expiry - 10_000).sort((a, b) => a - b);
    const gaps = grants.slice(1).map((grant, index) => grant - (grants[index] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(400);
    const starts = spans.map((span) => span.start).sort((a, b) => a - b);
    const inFlight = starts.map(
      (start) => spans.filter((span) => span.start <= start && span.end > start).length,
    );
    expect(Math.max(...inFlight)).toBe(2);
  });

  it("a killed worker's lease expires: the host is free again after the lease TTL", async () => {
    const host = `expiry-${randomUUID()}.test`;
    const dead = workerGate({ concurrency: 1, minDelayMs: 0, leaseTtlMs: 400 });
    await dead.acquire(host); // never released, as if the worker were SIGKILLed
    const started = Date.now();
    const release = await workerGate({ concurrency: 1, minDelayMs: 0 }).acquire(host);
    const waited = Date.now() - started;
    await release();
    expect(waited).toBeGreaterThanOrEqual(300);
    expect(waited).toBeLessThan(2_000);
  });

  it('a host busy for longer than the wait limit delays the job: no fetch, no attempt spent', async () => {
    const provider = await addHtmlProvider('busy-host', `${server.url}/busy`);
    const holder = workerGate({ concurrency: 1 });
    const release = await holder.acquire(new URL(server.url).host);
    try {
      const impatient = workerGate({ concurrency: 1, maxWaitMs: 200 });
      const { outcome, attemptsMade } = await sync(provider, runtimeWith(impatient));
      expect(outcome).toBe('delayed');
      expect(attemptsMade).toBe(0);
      expect(server.hits.get('/busy')).toBeUndefined();
      const run = await db.syncRun.findFirst({
        where: { providerId: provider.id },
        orderBy: { startedAt: 'desc' },
      });
      // Put off, not failed: the run waits for the job's next turn at the host.
      expect(run).toMatchObject({
        status: 'waiting',
        resumesAt: expect.any(Date) as unknown as Date,
      });
      expect(run?.error).toMatch(/is busy \(politeness limit\)/);
    } finally {
      await release();
    }
    // Released: the host is free again once the holder's min delay has passed.
    await expect(
      workerGate({ concurrency: 1, maxWaitMs: 1_000 })
        .acquire(new URL(server.url).host)
        .then((free) => free()),
    ).resolves.toBeUndefined();
  });
});

describe('robots.txt for HTML kinds', () => {
  let site: FeedServer;
  let robots: { status: number; body: string } = { status: 404, body: '' };

  beforeAll(async () => {
    site = await startFeedServer((request, response) => {
      if (request.url === '/robots.txt') {
        response.writeHead(robots.status, { 'content-type': 'text/plain' }).end(robots.body);
      } else {
        response.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      }
    });
  });
  afterAll(() => site.close());

  /** A guard with a cache of its own, as if robots.txt had never been read. */
  function freshGuard(): RobotsGuard {
    return new RobotsGuard(
      redis,
      uniquePrefix('robots'),
      (url) => fetchPayload(url, FETCH_OPTIONS),
      {
        userAgent: USER_AGENT,
        ttlSeconds: 60,
      },
    );
  }

  it('a Disallow fails the sync permanently without fetching the page', async () => {
    robots = { status: 200, body: 'User-agent: *\nDisallow: /events\n' };
    const provider = await addHtmlProvider('robots-disallow', `${site.url}/events/all`);
    const { outcome, error } = await sync(provider, runtimeWith(undefined, freshGuard()));
    expect(outcome).toBe('unrecoverable');
    expect(error?.message).toMatch(
      /robots\.txt of .* disallows \/events\/all for user agent "marquee"/,
    );
    expect(site.hits.get('/events/all')).toBeUndefined();
    const run = await db.syncRun.findFirst({ where: { providerId: provider.id } });
    expect(run).toMatchObject({ status: 'failed' });
    expect(run?.error).toMatch(/disallows/);
    expect(await db.event.count({ where: { providerId: provider.id } })).toBe(0);
  });

  it('a group naming our token overrides *; robots.txt is read once per TTL', async () => {
    robots = {
      status: 200,
      body: 'User-agent: *\nDisallow: /\n\nUser-agent: marquee\nAllow: /listings\nDisallow: /\n',
    };
    const provider = await addHtmlProvider('robots-own-group', `${site.url}/listings`);
    const guard = freshGuard();
    const before = site.hits.get('/robots.txt') ?? 0;
    expect((await sync(provider, runtimeWith(undefined, guard))).outcome).toBe('completed');
    expect((await sync(provider, runtimeWith(undefined, guard))).outcome).toBe('completed');
    expect(site.hits.get('/robots.txt')).toBe(before + 1);
    expect(site.hits.get('/listings')).toBe(2);
  });

  it('a missing robots.txt (404) allows everything', async () => {
    robots = { status: 404, body: 'not found' };
    const provider = await addHtmlProvider('robots-missing', `${site.url}/open`);
    const { outcome } = await sync(provider, runtimeWith(undefined, freshGuard()));
    expect(outcome).toBe('completed');
    expect(site.hits.get('/open')).toBe(1);
    expect(await db.event.count({ where: { providerId: provider.id } })).toBe(1);
  });

  it('a 5xx robots.txt is transient and never read as permission', async () => {
    robots = { status: 500, body: 'oops' };
    const provider = await addHtmlProvider('robots-broken', `${site.url}/later`);
    const { outcome, error } = await sync(provider, runtimeWith(undefined, freshGuard()));
    expect(outcome).toBe('transient');
    expect(error?.message).toMatch(/robots\.txt of .*: HTTP 500/);
    expect(site.hits.get('/later')).toBeUndefined();
  });

  it('non-HTML kinds do not read robots.txt', async () => {
    robots = { status: 200, body: 'User-agent: *\nDisallow: /\n' };
    const provider = await stack.providers.create({
      name: 'robots-xml',
      kind: 'fever-xml',
      url: `${site.url}/feed.xml`,
      everySeconds: 300,
      timezone: 'UTC',
    });
    const before = site.hits.get('/robots.txt') ?? 0;
    await sync(provider, runtimeWith(undefined, freshGuard()));
    expect(site.hits.get('/robots.txt') ?? 0).toBe(before);
    expect(site.hits.get('/feed.xml')).toBe(1);
  });
});
