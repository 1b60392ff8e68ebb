// Issue 12, item 5: `providers remove` while the provider's sync walks a slow paged API (a
// worker runtime as deployed): the walk stops at its next page (no request to the provider after
// that), the job fails for good with a plain reason, never ORM text, and nothing of the provider
// is left half-written: its events, runs and fetch state are gone with it.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseEnv } from '@marquee/config';
import { createDb, type Db } from '@marquee/db';
import { createLogger } from '@marquee/logger';
import { IngestQueue } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import {
  createTestDatabase,
  eventually,
  startFeedServer,
  uniquePrefix,
  workerTestEnv,
  type FeedServer,
  type TestDatabase,
} from '@marquee/testing';
import { createWorkerRuntime, workerEnvSchema, type WorkerRuntime } from '@marquee/worker';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliTestEnv, runCliInProcess } from './cli.harness.ts';

const PAGES = 40;
let database: TestDatabase;
let db: Db;
let redis: Redis;
let queue: IngestQueue;
let runtime: WorkerRuntime;
let worker: Worker;
let server: FeedServer;
let dir: string;
let requests = 0;
const prefix = uniquePrefix('cli-remove');

beforeAll(async () => {
  database = await createTestDatabase('cli_remove');
  db = createDb({ databaseUrl: database.url, maxConnections: 4 });
  redis = createRedis('redis://127.0.0.1:6379/0', 'blocking');
  queue = new IngestQueue({ connection: redis, prefix });
  dir = mkdtempSync(join(tmpdir(), 'marquee-remove-'));
  server = await startFeedServer((request, response) => {
    requests += 1;
    const page = Number(new URL(request.url ?? '/', 'http://api').searchParams.get('page') ?? 1);
    const data = Array.from({ length: 5 }, (_, index) => ({
      id: `${page}-${index}`,
      title: `Night ${page}.${index}`,
      start: new Date(Date.UTC(2030, 0, 1 + page, 20, index)).toISOString(),
    }));
    setTimeout(() => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ data, pages: PAGES }));
    }, 300);
  });
  runtime = createWorkerRuntime(
    parseEnv(workerEnvSchema, workerTestEnv(database.url, prefix, { FETCH_USER_AGENT: 'test' })),
    { logger: createLogger({ service: 'remove-test', level: 'error' }), db, redis },
  );
  worker = runtime.createWorker();
  void worker.run();
});

afterAll(async () => {
  await worker.close();
  await runtime.close();
  await queue.queue.obliterate({ force: true });
  await queue.close();
  await server.close();
  await redis.quit();
  await db.$disconnect();
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

const marquee = (...args: string[]) => runCliInProcess(args, cliTestEnv(database.url, prefix));

it('stops the running sync at its next page, with a plain reason, leaving nothing behind', async () => {
  const config = join(dir, 'api.json');
  writeFileSync(
    config,
    JSON.stringify({
      items: 'data',
      fields: { id: 'id', title: 'title', start: 'start' },
      pagination: { type: 'page', pageParam: 'page', totalPagesPath: 'pages' },
      maxPages: PAGES,
    }),
  );
  const add = ['providers', 'add', 'slow', '--kind', 'json-api', '--every', '1h'];
  expect((await marquee(...add, '--url', `${server.url}/events`, '--config', config)).code).toBe(0);
  const queued = await marquee('sync', 'slow', '--json');
  const { jobId } = JSON.parse(queued.out) as { jobId: string };
  await eventually(
    () => Promise.resolve(requests >= 3 ? true : undefined),
    20_000,
    'the walk to start',
  );

  const removed = await marquee('providers', 'remove', 'slow');
  expect(removed).toMatchObject({ code: 0, out: 'removed provider slow and its 0 event(s)' });
  const reason = await eventually(
    async () => {
      const job = await queue.queue.getJob(jobId);
      return (await job?.getState()) === 'failed' ? job?.failedReason : undefined;
    },
    // The bound: stopped within 10 s of the removal.
    10_000,
    'the sync to stop',
  );
  expect(reason).toBe('provider slow was removed; its sync stopped');
  const asked = requests;
  expect(asked).toBeLessThan(PAGES);
  // Nothing to wait for but time: the walk must not go on after its job failed.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(requests).toBe(asked);
  expect(await db.event.count()).toBe(0);
  expect(await db.syncRun.count()).toBe(0);
  expect(await db.providerFetchState.count()).toBe(0);

  const failed = await marquee('jobs', 'failed');
  expect(failed.out).toMatch(/provider slow was removed; its sync stopped/);
  expect(`${failed.out}${failed.err}`).not.toMatch(/invocation|prisma|this\.db/i);
});
