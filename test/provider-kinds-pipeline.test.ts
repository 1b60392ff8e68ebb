// A jsonld-html provider (a real Songkick page served locally) through the real worker pipeline:
// BullMQ on Redis, the worker runtime, Postgres, and the search API. The new event details land
// in the events table, a re-sync writes nothing, and /search keeps its Fever contract.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { QueueEvents, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createApp } from '@marquee/api';
import { SearchCache } from '@marquee/cache';
import { createDb, EventRepository, ProviderRepository, type Db, type Provider } from '@marquee/db';
import { parseEnv } from '@marquee/config';
import { createLogger } from '@marquee/logger';
import { IngestQueue, QUEUE_NAMES } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import {
  createTestDatabase,
  REPO_ROOT,
  startFeedServer,
  uniquePrefix,
  workerTestEnv,
  type FeedServer,
  type TestDatabase,
} from '@marquee/testing';
import {
  createWorkerRuntime,
  workerEnvSchema,
  type SyncSummary,
  type WorkerRuntime,
} from '@marquee/worker';

const page = readFileSync(
  join(
    REPO_ROOT,
    'packages/providers/test/fixtures/real/html/songkick_years-and-years_tour-dates_2015.html',
  ),
);

let database: TestDatabase;
let db: Db;
let redis: Redis;
let runtime: WorkerRuntime;
let eventsRedis: Redis;
let queue: IngestQueue;
let queueEvents: QueueEvents;
let worker: Worker;
let site: FeedServer;
let api: Server;
let apiUrl: string;
let provider: Provider;
let prefix: string;
const logger = createLogger({ service: 'kinds-pipeline-test', level: 'error' });

beforeAll(async () => {
  database = await createTestDatabase('kinds_pipeline');
  db = createDb({ databaseUrl: database.url });
  redis = createRedis('redis://127.0.0.1:6379/0', 'blocking');
  prefix = uniquePrefix('kinds-pipeline');
  const cache = new SearchCache({ redis, prefix, ttlSeconds: 60 });
  queue = new IngestQueue({ connection: redis, prefix });
  eventsRedis = redis.duplicate();
  queueEvents = new QueueEvents(QUEUE_NAMES.ingest, { connection: eventsRedis, prefix });
  await queueEvents.waitUntilReady();
  const events = new EventRepository(db);
  const providers = new ProviderRepository(db);
  runtime = createWorkerRuntime(
    parseEnv(
      workerEnvSchema,
      workerTestEnv(database.url, prefix, {
        WORKER_CONCURRENCY: '1',
        FETCH_TIMEOUT_MS: '5000',
        FETCH_MAX_BYTES: '2000000',
        FETCH_USER_AGENT: 'marquee-test',
      }),
    ),
    { logger, db, redis },
  );
  worker = runtime.createWorker();
  void worker.run();
  site = await startFeedServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  });
  provider = await providers.create({
    name: 'songkick-years',
    kind: 'jsonld-html',
    url: `${site.url}/artists/years-and-years`,
    everySeconds: 3600,
    timezone: 'Europe/London',
    config: { maxPages: 1 },
  });
  const app = createApp({
    events,
    cache,
    logger,
    checks: {
      database: async () => void (await db.$queryRaw`SELECT 1`),
      redis: async () => void (await redis.ping()),
    },
  });
  api = createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => api.once('listening', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await worker.close();
  await runtime.close();
  await queueEvents.close();
  await queue.queue.obliterate({ force: true });
  await queue.close();
  // Host leases, robots.txt and breaker reports the runtime kept under the prefix.
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await new Promise((resolve) => api.close(resolve));
  await site.close();
  await Promise.all([redis.quit(), eventsRedis.quit()]);
  await db.$disconnect();
  await database.drop();
});

async function sync(): Promise<SyncSummary> {
  const job = await queue.enqueueSync(
    { providerId: provider.id, trigger: 'manual' },
    { attempts: 1 },
  );
  return (await job.waitUntilFinished(queueEvents, 20_000)) as SyncSummary;
}

interface StoredEvent {
  title: string;
  start_at: Date;
  all_day: boolean;
  url: string | null;
  venue_name: string | null;
  venue_city: string | null;
  venue_country: string | null;
  venue_lat: number | null;
  performers: string[];
  status: string | null;
}

describe('a jsonld-html provider through the worker', () => {
  it('stores the 13 events with venue, url, performers and all-day dates', async () => {
    expect(await sync()).toMatchObject({ fetched: 13, parsed: 13, upserted: 13, rejected: 0 });
    const rows = await db.$queryRaw<StoredEvent[]>`
      SELECT title, start_at, all_day, url, venue_name, venue_city, venue_country, venue_lat,
        performers, status
      FROM events ORDER BY start_at, url`;
    expect(rows).toHaveLength(13);
    const cliffs = rows.find((row) => row.venue_name === 'Cliffs Pavillion');
    expect(cliffs).toMatchObject({
      title: 'Years & Years',
      all_day: false,
      venue_city: 'Westcliff-on-sea',
      venue_country: 'UK',
      performers: ['Years & Years', 'Shamir'],
    });
    expect(cliffs?.venue_lat).toBeCloseTo(51.535879, 5);
    expect(cliffs?.url).toMatch(/^http:\/\/www\.songkick\.com\/concerts\//);
    expect(cliffs?.start_at.toISOString()).toBe('2015-10-26T19:00:00.000Z');
    const manchester = rows.filter((row) => row.venue_name === 'Victoria Warehouse');
    expect(manchester.map((row) => row.all_day).sort()).toEqual([false, true]);
  });

  it('a re-sync of the same page writes nothing (details are part of the content hash)', async () => {
    expect(await sync()).toMatchObject({ parsed: 13, upserted: 0, unchanged: 13, changed: false });
  });

  it('/search lists them with its unchanged Fever fields', async () => {
    const response = await fetch(
      `${apiUrl}/search?starts_at=2015-10-01T00:00:00Z&ends_at=2015-11-30T00:00:00Z`,
    );
    const body = (await response.json()) as { data: { events: Record<string, unknown>[] } };
    expect(body.data.events).toHaveLength(13);
    expect(Object.keys(body.data.events[0] ?? {})).toEqual([
      'id',
      'title',
      'start_date',
      'start_time',
      'end_date',
      'end_time',
      'min_price',
      'max_price',
    ]);
    expect(body.data.events).toContainEqual(
      expect.objectContaining({
        title: 'Years & Years',
        start_date: '2015-10-26',
        start_time: '19:00:00',
      }),
    );
  });
});
