// Issue 12, item 1: `marquee providers update` changes a provider in place (id, events, sync
// history and the scheduler's provider stay) and the Job Scheduler follows within seconds, with
// the scheduler service's own reconcile loop listening for changes as deployed.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { createDb, ProviderRepository, SyncRunRepository, type Db } from '@marquee/db';
import { createLogger } from '@marquee/logger';
import { IngestQueue } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import { LeaderLease, listenForProviderChanges, ProviderScheduler } from '@marquee/scheduler';
import { createTestDatabase, eventually, uniquePrefix, type TestDatabase } from '@marquee/testing';
import { cliTestEnv, runCliInProcess } from './cli.harness.ts';

let database: TestDatabase;
let db: Db;
let redis: Redis;
let queue: IngestQueue;
let dir: string;
const prefix = uniquePrefix('cli-update');

beforeAll(async () => {
  database = await createTestDatabase('cli_update');
  db = createDb({ databaseUrl: database.url, maxConnections: 2 });
  redis = createRedis('redis://127.0.0.1:6379/0', 'blocking');
  queue = new IngestQueue({ connection: redis, prefix });
  dir = mkdtempSync(join(tmpdir(), 'marquee-update-'));
});

afterAll(async () => {
  await queue.queue.obliterate({ force: true });
  await queue.close();
  await redis.quit();
  await db.$disconnect();
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

const marquee = (...args: string[]) => runCliInProcess(args, cliTestEnv(database.url, prefix));

const everyOf = async (name: string) =>
  (await queue.listSchedules()).find((schedule) => schedule.providerName === name)?.everyMs;

/** Waits (5 s at most, as the issue allows) until the provider's Job Scheduler has this interval. */
const scheduleFollows = (name: string, everyMs: number | undefined) =>
  eventually(
    async () => ((await everyOf(name)) === everyMs ? true : undefined),
    5_000,
    `the schedule of ${name} at ${everyMs} ms`,
  );

describe('providers update', () => {
  it('changes the provider in place and the Job Scheduler follows', async () => {
    const scheduler = new ProviderScheduler({
      providers: new ProviderRepository(db),
      queue,
      lease: new LeaderLease(redis, `${prefix}:leader`, randomUUID(), 5_000),
      logger: createLogger({ service: 'scheduler-test', level: 'error' }),
      tickMs: 60_000,
      reconcileIntervalMs: 3_600_000,
    });
    const listener = listenForProviderChanges(
      database.url,
      () => scheduler.providersChanged(),
      createLogger({ service: 'scheduler-test', level: 'error' }),
    );
    await scheduler.start();
    try {
      const added = await marquee(
        'providers',
        'add',
        'discogs',
        '--kind',
        'fever-xml',
        '--url',
        'http://127.0.0.1:9/v1.xml',
        '--every',
        '5m',
      );
      expect(added.code).toBe(0);
      await scheduleFollows('discogs', 300_000);
      const before = await new ProviderRepository(db).findByName('discogs');
      const providerId = before?.id ?? '';
      await db.event.create({
        data: {
          id: randomUUID(),
          providerId,
          externalKey: 'e1',
          title: 'Concierto',
          startsAt: new Date('2030-01-01T20:00:00Z'),
          timezone: 'UTC',
          contentHash: 'h',
          online: false,
          everOnline: false,
        },
      });
      const runs = new SyncRunRepository(db);
      await runs.openRun(providerId, 'manual', undefined);

      const updated = await marquee(
        'providers',
        'update',
        'discogs',
        '--url',
        'http://127.0.0.1:9/v2.xml',
        '--every',
        '90s',
        '--timezone',
        'Europe/Madrid',
      );
      expect(updated).toMatchObject({
        code: 0,
        out: 'updated provider discogs: url http://127.0.0.1:9/v2.xml, every 1m30s, timezone Europe/Madrid',
      });
      const after = await new ProviderRepository(db).findByName('discogs');
      expect(after).toMatchObject({
        id: providerId,
        url: 'http://127.0.0.1:9/v2.xml',
        everySeconds: 90,
        timezone: 'Europe/Madrid',
        kind: 'fever-xml',
      });
      expect(await db.event.count({ where: { providerId } })).toBe(1);
      expect(await db.syncRun.count({ where: { providerId } })).toBe(1);
      await scheduleFollows('discogs', 90_000);

      expect((await marquee('providers', 'update', 'discogs', '--disable')).out).toBe(
        'updated provider discogs: disabled',
      );
      await scheduleFollows('discogs', undefined);
      expect((await marquee('providers', 'update', 'discogs', '--enable')).code).toBe(0);
      await scheduleFollows('discogs', 90_000);
    } finally {
      await listener.close();
      await scheduler.stop();
    }
  });

  it('replaces the config after checking it against the kind', async () => {
    const config = join(dir, 'api.json');
    writeFileSync(
      config,
      JSON.stringify({ items: 'data', fields: { title: 'name', start: 'date' } }),
    );
    expect(
      (
        await marquee(
          'providers',
          'add',
          'api',
          '--kind',
          'json-api',
          '--url',
          'http://127.0.0.1:9/api',
          '--config',
          config,
        )
      ).code,
    ).toBe(0);
    const next = join(dir, 'api-ua.json');
    writeFileSync(
      next,
      JSON.stringify({
        items: 'data',
        fields: { title: 'name', start: 'date' },
        headers: { 'User-Agent': 'MyApp/1.0' },
      }),
    );
    expect((await marquee('providers', 'update', 'api', '--config', next)).out).toBe(
      'updated provider api: config',
    );
    expect((await new ProviderRepository(db).findByName('api'))?.config).toMatchObject({
      headers: { 'User-Agent': 'MyApp/1.0' },
    });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ items: 'data', fields: { title: 'name' }, maxPage: 3 }));
    const refused = await marquee('providers', 'update', 'api', '--config', bad);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--config: invalid json-api config: .*maxPage/);
  });

  it.each([
    [['nobody', '--every', '5m'], /no provider named "nobody"/],
    [['api'], /nothing to update/],
    [['api', '--enable', '--disable'], /cannot be given together/],
    [['api', '--every', 'soon'], /--every: "soon" is not a duration/],
    [['api', '--url', 'ftp://x/y'], /--url must be http or https/],
  ])('refuses %j with exit 2, changing nothing', async (args, message) => {
    const before = await new ProviderRepository(db).findByName('api');
    const result = await marquee('providers', 'update', ...args);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(await new ProviderRepository(db).findByName('api')).toEqual(before);
  });
});
