// Issue 12, item 4: one sync at a time per provider, through the CLI with the scheduler and a
// worker runtime (two jobs at a time) running as deployed. `providers add` then `sync --wait` at
// once used to walk the provider twice in parallel (the scheduler's first run and the manual
// one); now the paged stand-in is asked for each page once. A second `sync` joins the running
// one, and a scheduled run during it is skipped, naming the running job.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseEnv } from '@marquee/config';
import { createDb, ProviderRepository, type Db } from '@marquee/db';
import { createLogger } from '@marquee/logger';
import { IngestQueue } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import { LeaderLease, listenForProviderChanges, ProviderScheduler } from '@marquee/scheduler';
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
import { cliTestEnv, runCliInProcess } from './cli.harness.ts';

const PAGES = 6;
const logger = createLogger({ service: 'one-sync-test', level: 'error' });

let database: TestDatabase;
let db: Db;
let redis: Redis;
let queue: IngestQueue;
let runtime: WorkerRuntime;
let worker: Worker;
let scheduler: ProviderScheduler;
let listener: { close(): Promise<void> };
let server: FeedServer;
let dir: string;
/** Requests per page (`page=3` → 2). */
const asked = new Map<string, number>();
/** Answers the server holds back until `release()`: a walk that stays running meanwhile. */
let held: (() => void)[] | undefined;

function release(): void {
  for (const answer of held?.splice(0) ?? []) answer();
  held = undefined;
}
const prefix = uniquePrefix('cli-one-sync');

beforeAll(async () => {
  database = await createTestDatabase('cli_one_sync');
  db = createDb({ databaseUrl: database.url, maxConnections: 4 });
  redis = createRedis('redis://127.0.0.1:6379/0', 'blocking');
  queue = new IngestQueue({ connection: redis, prefix });
  dir = mkdtempSync(join(tmpdir(), 'marquee-one-sync-'));
  server = await startFeedServer((request, response) => {
    const page = Number(new URL(request.url ?? '/', 'http://api').searchParams.get('page') ?? 1);
    asked.set(`page=${page}`, (asked.get(`page=${page}`) ?? 0) + 1);
    const data = Array.from({ length: 5 }, (_, index) => ({
      id: `${page}-${index}`,
      title: `Night ${page}.${index}`,
      start: new Date(Date.UTC(2030, 0, page, 20, index)).toISOString(),
    }));
    const answer = () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ data, pages: PAGES }));
    };
    if (held) held.push(answer);
    else setTimeout(answer, 150);
  });
  runtime = createWorkerRuntime(
    parseEnv(
      workerEnvSchema,
      workerTestEnv(database.url, prefix, { WORKER_CONCURRENCY: '2', FETCH_USER_AGENT: 'test' }),
    ),
    { logger, db, redis },
  );
  worker = runtime.createWorker();
  void worker.run();
  scheduler = new ProviderScheduler({
    providers: new ProviderRepository(db),
    queue,
    lease: new LeaderLease(redis, `${prefix}:leader`, randomUUID(), 5_000),
    logger,
    tickMs: 60_000,
    reconcileIntervalMs: 3_600_000,
  });
  listener = listenForProviderChanges(database.url, () => scheduler.providersChanged(), logger);
  await scheduler.start();
});

afterAll(async () => {
  release();
  await listener.close();
  await scheduler.stop();
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

async function addProvider(name: string) {
  const config = join(dir, `${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      items: 'data',
      fields: { id: 'id', title: 'title', start: 'start' },
      pagination: { type: 'page', pageParam: 'page', totalPagesPath: 'pages' },
    }),
  );
  const added = await marquee(
    'providers',
    'add',
    name,
    '--kind',
    'json-api',
    '--url',
    `${server.url}/${name}`,
    '--every',
    '1h',
    '--config',
    config,
  );
  expect(added.code).toBe(0);
}

/** Waits until no job is waiting, running or delayed: every sync asked for has ended. */
const settled = () =>
  eventually(
    async () => {
      const depth = await queue.depth();
      return depth.waiting + depth.active + depth.delayedDue + depth.delayedLater === 1
        ? true
        : undefined;
    },
    20_000,
    'every sync to end (the next scheduled run left)',
  );

const eachPageOnce = () =>
  Object.fromEntries(Array.from({ length: PAGES }, (_, index) => [`page=${index + 1}`, 1]));

describe('one sync at a time per provider', () => {
  it('providers add, then sync --wait at once: each page is requested once', async () => {
    asked.clear();
    await addProvider('venue');
    const synced = await marquee('sync', 'venue', '--wait');
    expect(synced.code).toBe(0);
    expect(synced.out).toMatch(/^venue: succeeded; fetched 30/);
    await settled();
    expect(Object.fromEntries(asked)).toEqual(eachPageOnce());
  });

  it('a second sync joins the running one; a scheduled run meanwhile is skipped', async () => {
    const provider = await new ProviderRepository(db).findByName('venue');
    asked.clear();
    held = [];
    const first = await marquee('sync', 'venue');
    const jobId = /\(job (\S+)\)/.exec(first.out)?.[1];
    expect(jobId).toBeDefined();
    await eventually(
      async () => ((await queue.queue.getJobState(jobId ?? '')) === 'active' ? true : undefined),
      10_000,
      'the manual sync to start',
    );
    const second = await marquee('sync', 'venue', '--json');
    expect(JSON.parse(second.out)).toEqual({ provider: 'venue', jobId, joined: true });
    const scheduled = await queue.enqueueSync({
      providerId: provider?.id ?? '',
      trigger: 'schedule',
    });
    // The walk waits on its first page until the scheduled run has ended (the run is opened,
    // then closed as skipped).
    const skipped = await eventually(
      async () => {
        const run = await db.syncRun.findFirst({ where: { jobId: scheduled.id ?? '' } });
        return run && run.status !== 'running' ? run : undefined;
      },
      20_000,
      'the scheduled run to end',
    );
    release();
    await settled();
    expect(Object.fromEntries(asked)).toEqual(eachPageOnce());
    expect(skipped).toMatchObject({
      status: 'skipped',
      error: `a sync of venue is already running (job ${jobId})`,
    });
  });
});
