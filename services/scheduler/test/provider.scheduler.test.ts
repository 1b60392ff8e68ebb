import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createDb, ProviderRepository, type Db } from '@marquee/db';
import { createLogger } from '@marquee/logger';
import { IngestQueue } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import { createTestDatabase, eventually, uniquePrefix, type TestDatabase } from '@marquee/testing';
import type { Redis } from 'ioredis';
import { LeaderLease } from '../src/leader.lease.ts';
import {
  listenForProviderChanges,
  PROVIDERS_CHANGED_CHANNEL,
} from '../src/provider-change.listener.ts';
import { ProviderScheduler } from '../src/provider.scheduler.ts';
import { reconcileSchedules } from '../src/schedule.reconciler.ts';

let database: TestDatabase;
let db: Db;
let redis: Redis;
let prefix: string;
let queue: IngestQueue;
let providers: ProviderRepository;
const logger = createLogger({ service: 'scheduler-test', level: 'error' });

beforeAll(async () => {
  database = await createTestDatabase('scheduler');
  db = createDb({ databaseUrl: database.url });
  redis = createRedis('redis://127.0.0.1:6379/0', 'blocking');
  prefix = uniquePrefix('scheduler');
  queue = new IngestQueue({ connection: redis, prefix });
  providers = new ProviderRepository(db);
});

afterAll(async () => {
  await queue.queue.obliterate({ force: true });
  await queue.close();
  await redis.quit();
  await db.$disconnect();
  await database.drop();
});

const add = (name: string, everySeconds = 60) =>
  providers.create({
    name,
    kind: 'fever-xml',
    url: `http://127.0.0.1/${name}.xml`,
    everySeconds,
    timezone: 'UTC',
  });

const waitFor = (check: () => Promise<boolean>, timeoutMs = 10_000): Promise<true> =>
  eventually(async () => (await check()) || undefined, timeoutMs, 'the schedules to follow');

/** The listener's session has run LISTEN (pg_stat_activity shows a session's last statement). */
const listening = async () => {
  const { rows } = await db.pool.query(
    'SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query = $1',
    [`LISTEN ${PROVIDERS_CHANGED_CHANNEL}`],
  );
  return rows.length > 0;
};

describe('reconcileSchedules', () => {
  it('keeps exactly one Job Scheduler per enabled provider at its interval', async () => {
    const a = await add('rec-a', 60);
    const b = await add('rec-b', 300);
    expect(await reconcileSchedules(providers, queue)).toMatchObject({
      upserted: ['rec-a', 'rec-b'],
      removed: [],
    });
    expect(await reconcileSchedules(providers, queue)).toMatchObject({
      upserted: [],
      removed: [],
      unchanged: 2,
    });
    const schedules = await queue.listSchedules();
    expect(schedules.map((s) => [s.providerId, s.everyMs]).sort()).toEqual(
      [
        [a.id, 60_000],
        [b.id, 300_000],
      ].sort(),
    );
    // Every scheduler put its first run in the queue at once.
    const jobs = await queue.queue.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(jobs.map((job) => (job.data as { providerId: string }).providerId).sort()).toEqual(
      [a.id, b.id].sort(),
    );

    await db.provider.update({ where: { id: b.id }, data: { everySeconds: 120 } });
    await providers.setEnabled('rec-a', false);
    expect(await reconcileSchedules(providers, queue)).toMatchObject({
      upserted: ['rec-b'],
      removed: ['sync-rec-a'],
    });
    expect((await queue.listSchedules()).map((s) => [s.providerId, s.everyMs])).toEqual([
      [b.id, 120_000],
    ]);

    await providers.remove('rec-b');
    await providers.remove('rec-a');
    expect(await reconcileSchedules(providers, queue)).toMatchObject({ removed: ['sync-rec-b'] });
    expect(await queue.listSchedules()).toEqual([]);
  });

  it('names schedulers and their jobs after the provider, keeping its id in the data', async () => {
    const provider = await add('acme.events', 600);
    await reconcileSchedules(providers, queue);
    const [schedule] = await queue.listSchedules();
    expect(schedule).toMatchObject({
      id: 'sync-acme.events',
      providerId: provider.id,
      providerName: 'acme.events',
    });
    const job = (await queue.queue.getJobs(['waiting', 'delayed', 'prioritized'])).find(
      (candidate) => (candidate.data as { providerId: string }).providerId === provider.id,
    );
    expect(job?.id).toMatch(/^repeat:sync-acme\.events:\d+$/);
    expect(job?.data).toEqual({
      providerId: provider.id,
      provider: 'acme.events',
      trigger: 'schedule',
    });
    // BullMQ splits its scheduler job ids on ":"; a name that holds one is escaped.
    expect(IngestQueue.scheduleId('a:b')).toBe('sync-a%3Ab');
    expect(IngestQueue.scheduleId('a%3Ab')).toBe('sync-a%253Ab');
    expect(IngestQueue.scheduleId('2024')).toBe('sync-2024');
    await providers.remove('acme.events');
    await reconcileSchedules(providers, queue);
  });

  it('moves the scheduler when a provider is renamed, leaving no orphan', async () => {
    const provider = await add('old-name', 60);
    await reconcileSchedules(providers, queue);
    await db.provider.update({ where: { id: provider.id }, data: { name: 'new-name' } });
    expect(await reconcileSchedules(providers, queue)).toMatchObject({
      upserted: ['new-name'],
      removed: ['sync-old-name'],
    });
    expect((await queue.listSchedules()).map((s) => [s.id, s.providerId])).toEqual([
      ['sync-new-name', provider.id],
    ]);
    await providers.remove('new-name');
    await reconcileSchedules(providers, queue);
  });

  it('replaces the provider-<uuid> schedulers of earlier releases on upgrade', async () => {
    const kept = await add('upgraded', 60);
    const gone = await add('gone-since', 60);
    // As the previous release wrote them: named after the id, the data without the name.
    for (const provider of [kept, gone]) {
      await queue.queue.upsertJobScheduler(
        `provider-${provider.id}`,
        { every: 60_000 },
        { name: 'provider.sync', data: { providerId: provider.id, trigger: 'schedule' } },
      );
    }
    await providers.remove('gone-since');
    expect((await queue.listSchedules()).map((s) => s.id).sort()).toEqual(
      [`provider-${gone.id}`, `provider-${kept.id}`].sort(),
    );
    const result = await reconcileSchedules(providers, queue);
    expect(result.upserted).toEqual(['upgraded']);
    expect(result.removed.sort()).toEqual([`provider-${gone.id}`, `provider-${kept.id}`].sort());
    expect((await queue.listSchedules()).map((s) => s.id)).toEqual(['sync-upgraded']);
    expect(await queue.queue.getJobSchedulersCount()).toBe(1);
    await providers.remove('upgraded');
    await reconcileSchedules(providers, queue);
  });
});

describe('ProviderScheduler', () => {
  it('lets one of two instances own the schedulers and hands over when it stops', async () => {
    const key = `${prefix}:scheduler:leader`;
    const make = () =>
      new ProviderScheduler({
        providers,
        queue,
        lease: new LeaderLease(redis, key, randomUUID(), 1_000),
        logger,
        tickMs: 100,
        reconcileIntervalMs: 60_000,
      });
    const first = make();
    const second = make();
    await Promise.all([first.start(), second.start()]);
    expect([first.isLeader, second.isLeader].filter(Boolean)).toHaveLength(1);

    const provider = await add('lead-a', 30);
    first.providersChanged();
    second.providersChanged();
    await waitFor(async () =>
      (await queue.listSchedules()).some((s) => s.providerId === provider.id),
    );
    expect(await queue.listSchedules()).toHaveLength(1);

    const [leader, standby] = first.isLeader ? [first, second] : [second, first];
    await leader.stop();
    await waitFor(() => Promise.resolve(standby.isLeader), 3_000);
    await standby.stop();
    await providers.remove('lead-a');
    await reconcileSchedules(providers, queue);
  });

  it('reconciles as soon as the providers table changes (NOTIFY), without waiting for the interval', async () => {
    const scheduler = new ProviderScheduler({
      providers,
      queue,
      lease: new LeaderLease(redis, `${prefix}:notify:leader`, randomUUID(), 5_000),
      logger,
      tickMs: 60_000,
      reconcileIntervalMs: 3_600_000,
    });
    const listener = listenForProviderChanges(
      database.url,
      () => scheduler.providersChanged(),
      logger,
    );
    await scheduler.start();
    try {
      await waitFor(listening, 5_000);
      const provider = await add('notify-a', 45);
      await waitFor(
        async () => (await queue.listSchedules()).some((s) => s.providerId === provider.id),
        5_000,
      );
      await providers.setEnabled('notify-a', false);
      await waitFor(async () => (await queue.listSchedules()).length === 0, 5_000);
    } finally {
      await listener.close();
      await scheduler.stop();
    }
  });
});
