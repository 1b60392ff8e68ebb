// Issue 4, dependency outage: Redis restarts while a worker process runs. Uses a redis-server of
// its own on a free port (append-only file in a temp dir, so the queue survives the restart like
// a persistent production Redis): the shared Redis on 6379 is never touched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  eventually,
  feverFeed,
  feverProvider,
  startDatabaseStack,
  startFeedServer,
  startRedisServer,
  startWorkerProcess,
  syncOnce,
  uniquePrefix,
  type DatabaseStack,
  type FeedServer,
  type LongRunning,
  type RedisServer,
} from '@marquee/testing';

let stack: DatabaseStack;
let feed: FeedServer;
let dir: string;
let redis: RedisServer;
let worker: LongRunning | undefined;
const prefix = uniquePrefix('redis-restart');

const syncAndWait = (providerId: string) => syncOnce(redis.url, prefix, providerId);

beforeAll(async () => {
  stack = await startDatabaseStack('redis_restart');
  dir = mkdtempSync(join(tmpdir(), 'marquee-redis-'));
  feed = await startFeedServer((request, response) =>
    response.writeHead(200).end(feverFeed(request.url?.includes('second') ? 6 : 5)),
  );
  redis = await startRedisServer([
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'always',
    '--maxmemory-policy',
    'noeviction',
  ]);
});

afterAll(async () => {
  await worker?.stop(5_000);
  await redis.stop();
  await feed.close();
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis restart', () => {
  it('a running worker reconnects by itself and processes jobs enqueued after the restart', async () => {
    const { providers } = stack;
    const first = await providers.create(feverProvider('first', `${feed.url}/first.xml`));
    worker = startWorkerProcess(stack.database.url, prefix, {
      REDIS_URL: redis.url,
      LOG_LEVEL: 'warn',
      WORKER_CONCURRENCY: '1',
    });
    expect(await syncAndWait(first.id)).toMatchObject({ provider: 'first', upserted: 5 });

    await redis.stop();
    // Redis is gone for the worker too (its connection reports it), and the worker lives on.
    const running = worker;
    await eventually(
      () => Promise.resolve(running.output().includes('worker error') || undefined),
      10_000,
      'the worker to notice Redis is down',
    );
    expect(worker.child.exitCode).toBeNull();
    await redis.start();

    const second = await providers.create(feverProvider('second', `${feed.url}/second.xml`));
    expect(await syncAndWait(second.id)).toMatchObject({ provider: 'second', upserted: 6 });
    expect(await stack.db.event.count()).toBe(11);
    expect(worker.child.exitCode).toBeNull();
  });
});
