// A user's session, end to end: the `marquee` CLI and the three services as separate processes
// (exactly the entry points `pnpm marquee …` and `pnpm --filter <service> start` run), a provider
// on a local HTTP server, then HTTP searches.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  createTestDatabase,
  eventually,
  feverFixture,
  freePort,
  removeQueue,
  runMarquee,
  startFeedServer,
  startService,
  uniquePrefix,
  untilReadyz,
  type FeedServer,
  type LongRunning,
  type TestDatabase,
} from '@marquee/testing';
import { ACCEPTANCE_EVENTS, ACCEPTANCE_WINDOW } from './fever.answers.ts';

const snapshot = (n: 1 | 2 | 3) => feverFixture(`response_${n}.xml`);

let database: TestDatabase;
let feed: FeedServer;
let served: Buffer | number = snapshot(1);
let env: NodeJS.ProcessEnv;
let api: string;
const services = new Map<string, LongRunning>();

// The CLI as users run it: its bin and bundle.
const marquee = (...args: string[]) => runMarquee(args, env);
const addFever = (url: string, ...flags: string[]) =>
  marquee('providers', 'add', 'fever', '--kind', 'fever-xml', '--url', url, ...flags);

beforeAll(async () => {
  database = await createTestDatabase('e2e', { migrate: false });
  feed = await startFeedServer((_request, response) => {
    if (typeof served === 'number') response.writeHead(served).end();
    else response.writeHead(200, { 'content-type': 'application/xml' }).end(served);
  });
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: database.url,
    REDIS_URL: 'redis://127.0.0.1:6379/0',
    QUEUE_PREFIX: uniquePrefix('e2e'),
    API_PORT: String(port),
    API_HOST: '127.0.0.1',
    ALLOW_PRIVATE_PROVIDERS: 'true',
    LOG_LEVEL: 'warn',
    SHUTDOWN_TIMEOUT_MS: '5000',
  };
});

afterAll(async () => {
  await Promise.all([...services.values()].map((service) => service.stop()));
  await removeQueue(env.QUEUE_PREFIX!);
  await feed.close();
  await database.drop();
});

async function search(query = '') {
  const response = await fetch(`${api}/search${query}`);
  return {
    status: response.status,
    body: (await response.json()) as {
      data: { events: { title: string }[] } | null;
      error: unknown;
    },
  };
}

describe('a user with a fresh database', () => {
  it('creates and migrates the database with `marquee migrate`', async () => {
    const first = await marquee('migrate');
    expect(first).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^applied \d+ migration\(s\)\n$/),
    });
    expect(first.stderr).toMatch(/created database marquee_test_e2e_/);
    expect(await marquee('migrate')).toMatchObject({ code: 0, stdout: 'database is up to date\n' });
  });

  it('starts scheduler, worker and api as separate processes', async () => {
    for (const service of ['scheduler', 'worker', 'api'] as const) {
      services.set(service, startService(service, env));
    }
    await untilReadyz(api);
    expect(await search()).toEqual({ status: 200, body: { data: { events: [] }, error: null } });
  });

  it('rejects a bad provider with a clear message and exit code 2', async () => {
    const result = await addFever('ftp://x', '--every', '1h');
    expect(result).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--url must be http or https'),
    });
    const zone = await addFever(`${feed.url}/f.xml`, '--timezone', 'Mars/Base');
    expect(zone).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('not an IANA time zone'),
    });
  });

  it('adds a provider; the scheduler syncs it at once and the api serves its events', async () => {
    const added = await addFever(`${feed.url}/feed.xml`, '--every', '1h');
    expect(added).toMatchObject({
      code: 0,
      stdout: 'added provider fever (fever-xml, every 1h)\n',
    });
    const titles = await eventually(
      async () => {
        const { body } = await search();
        return body.data?.events.length === 3
          ? body.data.events.map((event) => event.title)
          : undefined;
      },
      30_000,
      'the first scheduled sync',
    );
    expect(titles).toEqual(['Pantomima Full', 'Camela en concierto', 'Los Morancos']);
  });

  it('syncs on demand with `sync --wait`, showing progress and a summary', async () => {
    served = snapshot(2);
    const second = await marquee('sync', 'fever', '--wait');
    expect(second.code).toBe(0);
    // Progress is sent only once a sync outlasts one progress interval: a sync this small shows
    // that its attempt started, then the summary.
    expect(second.stderr).toMatch(/queued sync of fever[\s\S]*attempt 1\/5: started/);
    expect(second.stdout).toBe(
      'fever: succeeded; fetched 3, parsed 2, upserted 1, unchanged 1, rejected 1\n',
    );
    served = snapshot(3);
    expect(await marquee('sync', 'fever', '--wait')).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('upserted 2'),
    });
  });

  it('answers the acceptance search with 291, 322 and 1591 at their latest values', async () => {
    const response = await fetch(`${api}/search${ACCEPTANCE_WINDOW}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as {
      data: { events: Record<string, unknown>[] };
      error: null;
    };
    expect(body.error).toBeNull();
    expect(body.data.events.map(({ id: _id, ...rest }) => rest)).toEqual(ACCEPTANCE_EVENTS);
  });

  it('answers a bad query with 400 and the error envelope', async () => {
    const bad = await search('?starts_at=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      data: null,
      error: { code: 'invalid_parameter', message: expect.stringContaining('starts_at') },
    });
    const reversed = await search('?starts_at=2022-01-01T00:00:00Z&ends_at=2021-01-01T00:00:00Z');
    expect(reversed).toMatchObject({
      status: 400,
      body: { data: null, error: { code: 'invalid_range' } },
    });
  });

  it('reports a failed sync with exit code 1 and keeps the catalog', async () => {
    served = 404;
    const failed = await marquee('sync', 'fever', '--wait');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/attempt 1\/5 failed: .*404.*; breaker closed; not retried/);
    expect(failed.stderr).toMatch(/^error: sync of fever failed after 1 attempt\(s\): .*404/m);
    expect((await search()).body.data?.events).toHaveLength(3);
    const list = await marquee('providers', 'list', '--json');
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({
        name: 'fever',
        enabled: true,
        lastSync: expect.objectContaining({
          status: 'failed',
          error: expect.stringContaining('404'),
        }),
      }),
    ]);
  });

  it('lists the failed sync as a dead letter and retries it once the feed is back', async () => {
    const failed = await marquee('jobs', 'failed', '--json');
    expect(failed.code).toBe(0);
    const deadLetters = JSON.parse(failed.stdout) as {
      id: string;
      provider: string;
      failedReason: string;
    }[];
    expect(deadLetters).toEqual([
      expect.objectContaining({ provider: 'fever', failedReason: expect.stringContaining('404') }),
    ]);
    served = snapshot(3);
    expect(await marquee('jobs', 'retry', deadLetters[0]!.id)).toMatchObject({
      code: 0,
      stdout: 'retried 1 failed sync(s)\n',
    });
    await eventually(
      async () => {
        const list = JSON.parse((await marquee('providers', 'list', '--json')).stdout) as {
          lastSync: { status: string };
        }[];
        return list[0]?.lastSync.status === 'succeeded' ? true : undefined;
      },
      20_000,
      'the retried sync',
    );
    expect(await marquee('jobs', 'failed', '--json')).toMatchObject({ code: 0, stdout: '[]\n' });
    expect(await marquee('jobs', 'retry')).toMatchObject({ code: 2 });
  });

  it('disables and removes the provider; the scheduler drops its schedule', async () => {
    const redis = new Redis(env.REDIS_URL!);
    const queue = new Queue('ingest', { connection: redis, prefix: env.QUEUE_PREFIX });
    try {
      expect(await queue.getJobSchedulersCount()).toBe(1);
      expect(await marquee('providers', 'disable', 'fever')).toMatchObject({
        code: 0,
        stdout: 'disabled provider fever\n',
      });
      await eventually(
        async () => ((await queue.getJobSchedulersCount()) === 0 ? true : undefined),
        10_000,
        'schedule removal',
      );
      expect((await search()).body.data?.events).toHaveLength(3);
      expect(await marquee('providers', 'remove', 'fever')).toMatchObject({
        code: 0,
        stdout: 'removed provider fever and its 3 event(s)\n',
      });
      // Cached answers drop them at once, not after CACHE_TTL_SECONDS: no sync writes anything to
      // bump the catalog version, so the scheduler bumps it on the change to providers.
      await eventually(
        async () => ((await search()).body.data?.events.length === 0 ? true : undefined),
        5_000,
        'the removed events to leave the cached search',
      );
      expect(await marquee('providers', 'remove', 'fever')).toMatchObject({
        code: 2,
        stderr: 'error: no provider named "fever"\n',
      });
    } finally {
      await queue.close();
      await redis.quit();
    }
  });

  it('stops every service cleanly on SIGTERM', async () => {
    for (const [name, service] of services) {
      expect([name, await service.stop()]).toEqual([name, 0]);
    }
  });
});
