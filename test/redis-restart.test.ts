// Issue 4, dependency outage: Redis restarts while a worker process runs. Uses a redis-server of
// its own on a free port (append-only file in a temp dir, so the queue survives the restart like
// a persistent production Redis): the shared Redis on 6379 is never touched.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { createDb, ProviderRepository, type Db } from '@marquee/db';
import { IngestQueue } from '@marquee/queue';
import {
  createTestDatabase,
  eventually,
  feverFeed,
  freePort,
  startFeedServer,
  startTs,
  uniquePrefix,
  workerProcessEnv,
  type FeedServer,
  type LongRunning,
  type TestDatabase,
  feverProvider,
} from '@marquee/testing';

let database: TestDatabase;
let db: Db;
let feed: FeedServer;
let port: number;
let dir: string;
let redisServer: ChildProcess | undefined;
let worker: LongRunning | undefined;
let redisUrl: string;
const prefix = uniquePrefix('redis-restart');

async function startRedis(): Promise<void> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: 'ignore' },
  );
  redisServer = child;
  await eventually(
    async () => {
      const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG' ? true : undefined;
      } finally {
        probe.disconnect();
      }
    },
    10_000,
    'redis-server to answer',
  );
}

async function stopRedis(): Promise<void> {
  const child = redisServer;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** Enqueues a sync on a fresh connection and waits for its completion by polling. */
async function syncAndWait(providerId: string): Promise<unknown> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new IngestQueue({ connection: redis, prefix });
  try {
    const job = await queue.enqueueSync({ providerId, trigger: 'manual' });
    return await eventually(
      async () => {
        if ((await queue.queue.getJobState(job.id ?? '')) !== 'completed') return undefined;
        // Read the job only once it is complete: a copy read earlier has no return value yet.
        return (await queue.queue.getJob(job.id ?? ''))?.returnvalue as unknown;
      },
      30_000,
      `job ${job.id} to complete`,
    );
  } finally {
    await queue.close();
    await redis.quit();
  }
}

beforeAll(async () => {
  database = await createTestDatabase('redis_restart');
  db = createDb({ databaseUrl: database.url });
  dir = mkdtempSync(join(tmpdir(), 'marquee-redis-'));
  port = await freePort();
  redisUrl = `redis://127.0.0.1:${port}/0`;
  feed = await startFeedServer((request, response) =>
    response.writeHead(200).end(feverFeed(request.url?.includes('second') ? 6 : 5)),
  );
  await startRedis();
});

afterAll(async () => {
  await worker?.stop(5_000);
  await stopRedis();
  await feed.close();
  await db.$disconnect();
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis restart', () => {
  it('a running worker reconnects by itself and processes jobs enqueued after the restart', async () => {
    const providers = new ProviderRepository(db);
    const first = await providers.create(feverProvider('first', `${feed.url}/first.xml`));
    worker = startTs(
      'services/worker/src/main.ts',
      workerProcessEnv(database.url, prefix, {
        REDIS_URL: redisUrl,
        LOG_LEVEL: 'warn',
        WORKER_CONCURRENCY: '1',
      }),
    );
    expect(await syncAndWait(first.id)).toMatchObject({ provider: 'first', upserted: 5 });

    await stopRedis();
    // Redis is gone for the worker too (its connection reports it), and the worker lives on.
    const running = worker;
    await eventually(
      () => Promise.resolve(running.output().includes('worker error') || undefined),
      10_000,
      'the worker to notice Redis is down',
    );
    expect(worker.child.exitCode).toBeNull();
    await startRedis();

    const second = await providers.create(feverProvider('second', `${feed.url}/second.xml`));
    expect(await syncAndWait(second.id)).toMatchObject({ provider: 'second', upserted: 6 });
    expect(await db.event.count()).toBe(11);
    expect(worker.child.exitCode).toBeNull();
  });
});
