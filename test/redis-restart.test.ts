// Issue 4, dependency outage: Redis restarts while a worker process runs. Uses a redis-server of
// its own on a free port (append-only file in a temp dir, so the queue survives the restart like
// a persistent production Redis): the shared Redis on 6379 is never touched.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRedis } from '@marquee/redis';
import {
  eventually,
  feverFeed,
  freePort,
  feverProvider,
  startDatabaseStack,
  startFeedServer,
  startRedisServer,
  startService,
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
const services: LongRunning[] = [];
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
  await Promise.all(services.map((service) => service.stop(5_000)));
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
    // Every connection reports each reconnection attempt (several a second): the log says it
    // once per 10 s per kind, as JSON lines, and nothing reaches stderr unformatted.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const during = running.output();
    const said = (message: string) =>
      during.split('\n').filter((line) => line.includes(`"message":"${message}"`));
    expect(said('worker error')).toHaveLength(1);
    expect(said('webhook worker error')).toHaveLength(1);
    expect(said('redis unavailable')).toHaveLength(1);
    expect(during).not.toMatch(/Unhandled error event|^Error: /m);
    await redis.start();

    const second = await providers.create(feverProvider('second', `${feed.url}/second.xml`));
    expect(await syncAndWait(second.id)).toMatchObject({ provider: 'second', upserted: 6 });
    expect(await stack.db.event.count()).toBe(11);
    expect(worker.child.exitCode).toBeNull();
  });

  it('the scheduler and the dashboard say so in their JSON log, nothing raw on stderr', async () => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: stack.database.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'warn',
    };
    const scheduler = startService('scheduler', { ...env, METRICS_PORT: '0' });
    const dashboard = startService('dashboard', {
      ...env,
      DASHBOARD_PORT: String(await freePort()),
      DASHBOARD_TOKEN: 'redis-restart-dashboard-token',
    });
    services.push(scheduler, dashboard);
    // Up: the dashboard answers, the scheduler has written its schedules.
    const probe = createRedis(redis.url, 'fail-fast');
    try {
      await eventually(
        async () => (await probe.exists(`${prefix}:scheduler:leader`)) === 1 || undefined,
        20_000,
        'the scheduler to lead',
      );
    } finally {
      await probe.quit();
    }
    await redis.stop();
    // BullMQ's queues and the plain clients report each reconnection attempt while it is down.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    for (const service of [scheduler, dashboard]) {
      expect(service.output()).not.toMatch(/Unhandled error event|^Error: /m);
      expect(service.child.exitCode).toBeNull();
    }
    await redis.start();
  });
});
