// Issue 4 item 9, dependency outage: Postgres stops and comes back under a running api and worker.
// Uses a PostgreSQL cluster of its own (initdb into a temp dir, run as the `postgres` user when the
// tests run as root, on a free port): the shared Postgres on 5432 is never touched.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { createDb, migrate, ProviderRepository, type Db } from '@marquee/db';
import { IngestQueue } from '@marquee/queue';
import {
  completedJob,
  eventually,
  feverFeed,
  feverProvider,
  freePort,
  startFeedServer,
  startService,
  uniquePrefix,
  untilReadyz,
  workerProcessEnv,
  type FeedServer,
  type LongRunning,
} from '@marquee/testing';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const REDIS_URL = 'redis://127.0.0.1:6379/0';
const prefix = uniquePrefix('pg-restart');

let dir: string;
let pgPort: number;
let databaseUrl: string;
let db: Db;
let feed: FeedServer;
let api: LongRunning | undefined;
let worker: LongRunning | undefined;
let apiUrl: string;
let redis: Redis;
let queue: IngestQueue;

/** Runs a PostgreSQL binary as the cluster's owner (initdb refuses root). */
function pgRun(binary: string, args: string[]): void {
  const command = [join(PG_BIN, binary), ...args];
  if (process.getuid?.() === 0) {
    const quoted = command.map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(' ');
    execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', quoted], { stdio: 'ignore' });
  } else {
    execFileSync(command[0] ?? '', command.slice(1), { stdio: 'ignore' });
  }
}

function startPostgres(): void {
  pgRun('pg_ctl', [
    '-D',
    join(dir, 'data'),
    '-l',
    join(dir, 'log'),
    '-o',
    `-p ${pgPort} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    '-w',
    'start',
  ]);
}

function stopPostgres(): void {
  pgRun('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
}

async function search(query: string) {
  const response = await fetch(`${apiUrl}/search${query}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'marquee-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  pgRun('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
  pgPort = await freePort();
  startPostgres();
  databaseUrl = `postgresql://postgres@127.0.0.1:${pgPort}/postgres`;
  await migrate({ databaseUrl });
  db = createDb({ databaseUrl });
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  queue = new IngestQueue({ connection: redis, prefix });
  feed = await startFeedServer((request, response) =>
    response.writeHead(200).end(feverFeed(request.url?.includes('second') ? 6 : 5)),
  );
  const apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  const env = workerProcessEnv(databaseUrl, prefix, {
    REDIS_URL,
    WORKER_CONCURRENCY: '1',
    API_PORT: String(apiPort),
    API_HOST: '127.0.0.1',
  });

  api = startService('api', env);
  worker = startService('worker', env);
  await untilReadyz(apiUrl);
});

afterAll(async () => {
  await Promise.all([api?.stop(5_000), worker?.stop(5_000)]);
  await queue?.queue.obliterate({ force: true });
  await queue?.close();
  await redis?.quit();
  await db?.$disconnect();
  await feed?.close();
  try {
    stopPostgres();
  } catch {
    // Already stopped (a failed test); the directory goes either way.
  }
  rmSync(dir, { recursive: true, force: true });
});

const waitForJob = (id: string) => completedJob(queue, id, 60_000);

describe('Postgres restart', () => {
  it('the api serves cached searches and reports 503 while it is down; nothing is lost', async () => {
    const providers = new ProviderRepository(db);
    const first = await providers.create(feverProvider('first', `${feed.url}/first.xml`));
    const second = await providers.create(feverProvider('second', `${feed.url}/second.xml`));
    const firstJob = await queue.enqueueSync({ providerId: first.id, trigger: 'manual' });
    expect(await waitForJob(firstJob.id ?? '')).toMatchObject({ upserted: 5 });
    const cachedQuery = '?starts_at=2030-01-01T00:00:00Z&ends_at=2030-12-31T00:00:00Z';
    const before = await search(cachedQuery);
    expect(before.status).toBe(200);
    expect(JSON.stringify(before.body)).toContain('2030-03');

    stopPostgres();
    await untilReadyz(apiUrl, 503, 15_000);
    // Served from the cache: the same answer as before the outage.
    expect(await search(cachedQuery)).toEqual(before);
    // Not cached: 503 with Retry-After and the envelope (an outage, not a bug), not a hang.
    const uncached = await fetch(
      `${apiUrl}/search?starts_at=2029-01-01T00:00:00Z&ends_at=2029-12-31T00:00:00Z`,
    );
    expect(uncached.status).toBe(503);
    expect(uncached.headers.get('retry-after')).toBe('5');
    expect(await uncached.json()).toEqual({
      data: null,
      error: { code: 'unavailable', message: 'the catalog is unavailable; retry later' },
    });
    // A sync enqueued during the outage fails its attempt (transient) and is retried.
    const secondJob = await queue.enqueueSync({ providerId: second.id, trigger: 'manual' });
    await eventually(
      async () =>
        ((await queue.queue.getJob(secondJob.id ?? ''))?.attemptsMade ?? 0) >= 1 || undefined,
      30_000,
      'a failed attempt during the outage',
    );

    startPostgres();
    await untilReadyz(apiUrl);
    expect(await waitForJob(secondJob.id ?? '')).toMatchObject({ upserted: 6 });
    expect(await db.event.count()).toBe(11);
    expect(api?.child.exitCode).toBeNull();
    expect(worker?.child.exitCode).toBeNull();
  });
});
