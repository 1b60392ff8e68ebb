// Issue 13 item 2: anonymous cache busting cannot grow the queues' Redis without bound. The api
// runs as deployed (its own process, CACHE_MAX_MB) over a 10k-event catalog, on a redis-server of
// its own started like the compose one (one Redis for queues and cache, maxmemory, noeviction):
// the shared Redis on 6379 is never touched. 300 distinct windows, each a cache miss, grow Redis's
// used_memory by less than the budget, and a sync still succeeds afterwards.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import {
  eventually,
  feverFeed,
  feverProvider,
  freePort,
  startDatabaseStack,
  startFeedServer,
  startRedisServer,
  startService,
  startWorkerProcess,
  syncOnce,
  uniquePrefix,
  untilReadyz,
  type DatabaseStack,
  type FeedServer,
  type LongRunning,
  type RedisServer,
} from '@marquee/testing';

const MIB = 1024 * 1024;
const BUDGET_MB = 4;
// An unbounded cache would need ~60 MB for the answers below (two copies of ~100 KB each).
const HEADROOM = 24 * MIB;
const CATALOG = 10_000;
const WINDOWS = 300;
const BASE = Date.parse('2040-01-01T00:00:00Z');
const HOUR = 3_600_000;

const prefix = uniquePrefix('cache-budget');
let stack: DatabaseStack;
let feed: FeedServer;
let redis: RedisServer;
let admin: Redis;
let apiUrl: string;
/** The api, then the worker once started. */
const services: LongRunning[] = [];

async function usedMemory(): Promise<number> {
  const info = await admin.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

/** MULTI/EXEC transactions Redis ran or refused: each cache write is one, the api's only one. */
async function transactions(): Promise<number> {
  const stats = /cmdstat_exec:(.*)/.exec(await admin.info('commandstats'))?.[1] ?? '';
  return [...stats.matchAll(/(?:^|,)(?:calls|rejected_calls|failed_calls)=(\d+)/g)].reduce(
    (sum, [, count]) => sum + Number(count),
    0,
  );
}

/** 10,000 events an hour apart; a window from the first one holds about 500. */
async function seedCatalog(): Promise<void> {
  const provider = await stack.providers.create(
    feverProvider('catalog', 'http://127.0.0.1/catalog.xml'),
  );
  const records = Array.from({ length: CATALOG }, (_, index) => ({
    externalKey: `e${index}`,
    title: `Concert number ${index} in the budget test`,
    startsAt: new Date(BASE + index * HOUR),
    endsAt: new Date(BASE + index * HOUR + 2 * HOUR),
    timezone: 'UTC',
    minPrice: '10.00',
    maxPrice: '20.00',
    currency: 'EUR',
    online: true,
  }));
  await stack.events.upsertMany(provider, records, new Date());
}

beforeAll(async () => {
  stack = await startDatabaseStack('cache_budget');
  await seedCatalog();
  feed = await startFeedServer((_request, response) => response.writeHead(200).end(feverFeed(5)));
  redis = await startRedisServer(['--appendonly', 'no']);
  admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  // As deployed next to the queues: a memory ceiling and no eviction.
  await admin.config('SET', 'maxmemory', String((await usedMemory()) + HEADROOM));
  await admin.config('SET', 'maxmemory-policy', 'noeviction');
  const apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  services.push(
    startService('api', {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: stack.database.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'error',
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      CACHE_MAX_MB: String(BUDGET_MB),
    }),
  );
  await untilReadyz(apiUrl);
});

afterAll(async () => {
  await Promise.all(services.map((service) => service.stop(5_000)));
  admin?.disconnect();
  await redis?.stop();
  await feed?.close();
  await stack?.close();
});

/** Window `index`: its own start (to the second), the same end: ~500 events, ~100 KB. */
function window(index: number): string {
  const start = new Date(BASE + index * 1000).toISOString().replace('.000', '');
  const end = new Date(BASE + 500 * HOUR).toISOString().replace('.000', '');
  return `/search?starts_at=${start}&ends_at=${end}`;
}

describe('the cache byte budget on one noeviction Redis shared with the queues', () => {
  it('300 cache-missing windows grow used_memory by less than CACHE_MAX_MB, and a sync still succeeds', async () => {
    const before = await usedMemory();
    const transactionsBefore = await transactions();
    let bodyBytes = 0;
    for (let start = 0; start < WINDOWS; start += 4) {
      const answers = await Promise.all(
        [0, 1, 2, 3].map(async (offset) => {
          const response = await fetch(`${apiUrl}${window(start + offset)}`);
          expect(response.headers.get('x-cache')).toBe('miss');
          return (await response.arrayBuffer()).byteLength;
        }),
      );
      bodyBytes += answers.reduce((sum, bytes) => sum + bytes, 0);
    }
    // The answers were big enough to matter: many times the budget.
    expect(bodyBytes).toBeGreaterThan(5 * BUDGET_MB * MIB);
    // The writes are not awaited by the answers: wait until they have all landed.
    const entries = `${prefix}:cache:entries`;
    await eventually(
      async () => ((await transactions()) - transactionsBefore >= WINDOWS ? true : undefined),
      10_000,
      `the ${WINDOWS} cache writes to land`,
    );
    const grown = (await usedMemory()) - before;
    expect(grown).toBeLessThan(BUDGET_MB * MIB);
    // The cache did store answers, within its budget, the newest ones.
    expect(await admin.zcard(entries)).toBeGreaterThan(10);
    expect(Number(await admin.hget(`${prefix}:cache:bytes`, 'total'))).toBeLessThanOrEqual(
      BUDGET_MB * MIB,
    );

    const provider = await stack.providers.create(
      feverProvider('after-the-storm', `${feed.url}/feed.xml`),
    );
    services.push(
      startWorkerProcess(stack.database.url, prefix, {
        REDIS_URL: redis.url,
        LOG_LEVEL: 'warn',
        WORKER_CONCURRENCY: '1',
      }),
    );
    expect(await syncOnce(redis.url, prefix, provider.id)).toMatchObject({ upserted: 5 });
  });
});
