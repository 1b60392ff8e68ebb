// The worker's PostgreSQL pool is WORKER_DB_POOL_MAX connections (at most 10 by default,
// whatever the concurrency), and large payloads' bulk-write transactions never hold all of them: with every write blocked, the
// syncs waiting to write hold no connection and a short query still gets one.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { parseEnv } from '@marquee/config';
import { bulkTransactionSlots, type Provider } from '@marquee/db';
import { createLogger } from '@marquee/logger';
import {
  eventually,
  feverFeed,
  feverProvider,
  startFeedServer,
  startQueueStack,
  workerTestEnv,
  type FeedServer,
  type QueueStack,
} from '@marquee/testing';
import { workerDbPoolMax, workerEnvSchema } from '../src/env.schema.ts';
import { passThrough } from '../src/fetch.chain.ts';
import { createWorkerRuntime, type WorkerRuntime } from '../src/worker.runtime.ts';

const POOL = 3;
const SYNCS = 4;
// Over a streaming kind's first batch (2,000): each payload is written in a transaction of its own.
const EVENTS = 3_000;

let stack: QueueStack;
let feed: FeedServer;
let runtime: WorkerRuntime;
let providers: Provider[];
/** Most connections the worker's pool held at once, read whenever it opens one. */
let peak = 0;

beforeAll(async () => {
  stack = await startQueueStack('db-pool');
  const body = feverFeed(EVENTS);
  feed = await startFeedServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/xml' });
    response.end(body);
  });
  providers = [];
  for (let index = 0; index < SYNCS; index += 1) {
    providers.push(
      await stack.providers.create(feverProvider(`big-${index}`, `${feed.url}/${index}.xml`)),
    );
  }
  const env = workerTestEnv(stack.database.url, stack.prefix, {
    WORKER_CONCURRENCY: String(SYNCS),
    WORKER_DB_POOL_MAX: String(POOL),
  });
  // The runtime builds its own pool from the environment (no `db` given).
  runtime = createWorkerRuntime(parseEnv(workerEnvSchema, env), {
    logger: createLogger({ service: 'db-pool-test', level: 'error' }),
    redis: stack.redis,
    links: { breaker: passThrough },
  });
  const pool = runtime.db.pool;
  pool.on('connect', () => (peak = Math.max(peak, pool.totalCount)));
});

afterAll(async () => {
  await runtime?.close();
  await feed?.close();
  await stack?.close();
});

/** Sessions of the worker's pool waiting for a lock (the test's own hold none of them). */
async function waitingOnLocks(): Promise<number> {
  const rows = await stack.db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'`;
  return rows[0]?.n ?? -1;
}

describe('the worker pool', () => {
  it('is WORKER_DB_POOL_MAX, by default a connection per sync and two more, at most 10', () => {
    const pools = [1, 4, 8, 32, 64].map((concurrency) =>
      workerDbPoolMax(
        parseEnv(
          workerEnvSchema,
          workerTestEnv('postgresql://unused/db', 'unused', {
            WORKER_CONCURRENCY: String(concurrency),
          }),
        ),
      ),
    );
    expect(pools).toEqual([3, 6, 10, 10, 10]);
    // The runtime built its pool from the environment.
    expect(runtime.db.pool.options.max).toBe(POOL);
    expect(runtime.deps.events.transactionGate?.slots).toBe(bulkTransactionSlots(POOL));
  });

  it(`${SYNCS} large syncs on ${POOL} connections: writes blocked, a short query still answers; then all complete`, async () => {
    const locker = new pg.Client({ connectionString: stack.database.url });
    await locker.connect();
    const worker = runtime.createWorker();
    try {
      // Every bulk write blocks on its first row until the test lets go.
      await locker.query('BEGIN; LOCK TABLE events IN EXCLUSIVE MODE');
      const jobs = await Promise.all(
        providers.map((provider) =>
          stack.queue.enqueueSync({ providerId: provider.id, trigger: 'manual' }),
        ),
      );
      void worker.run();
      // Every sync has reached its write: fetched and parsed up to its first batch.
      await eventually(
        async () => {
          const stages = await Promise.all(
            jobs.map(async (job) => {
              const progress = (await stack.queue.queue.getJob(job.id ?? ''))?.progress;
              return (progress as { stage?: string } | undefined)?.stage;
            }),
          );
          return stages.every((stage) => stage === 'writing') ? true : undefined;
        },
        30_000,
        'every sync at its write',
      );
      await eventually(
        async () => ((await waitingOnLocks()) === bulkTransactionSlots(POOL) ? true : undefined),
        10_000,
        `${bulkTransactionSlots(POOL)} bulk write(s) waiting on the lock`,
      );
      // The others wait for a slot of the gate, not for a connection: one is left for this.
      await expect(runtime.checks.database()).resolves.toBeDefined();
      expect(await waitingOnLocks()).toBe(bulkTransactionSlots(POOL));
      await locker.query('COMMIT');
      for (const job of jobs) {
        expect(await stack.completed(job.id ?? '', 60_000)).toMatchObject({ upserted: EVENTS });
      }
      const rows = await stack.db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM events`;
      expect(rows[0]?.n).toBe(SYNCS * EVENTS);
      // A connection beside the blocked write's, and never more than the pool's size.
      expect(peak).toBeGreaterThan(bulkTransactionSlots(POOL));
      expect(peak).toBeLessThanOrEqual(POOL);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
      await worker.close();
    }
  });
});
