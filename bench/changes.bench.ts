// `pnpm bench:changes`: the change feed and webhooks on the real stack (PostgreSQL, Redis, the
// worker runtime's webhook worker, a local receiver). Writes the "Change feed and webhooks"
// section of bench/RESULTS.md:
// - the triggers' cost: the bulk writer's first ingest and 5%-changed re-ingest of BENCH_EVENTS
//   (20000) events, with the change triggers on and off, alternating, 3 rounds each;
// - feed read throughput: changes/s through GET /v1/changes (limit 1000), event bodies included;
// - webhooks: from commit to delivery (receiver's clock), p50/p99 over BENCH_HOOKS (200) changes.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { createApp } from '@marquee/api';
import { SearchCache } from '@marquee/cache';
import { parseEnv } from '@marquee/config';
import {
  ChangeRepository,
  createDb,
  EventRepository,
  ProviderRepository,
  ProviderStatusRepository,
  WebhookRepository,
  type Db,
  type Provider,
} from '@marquee/db';
import type { EventRecord } from '@marquee/event-model';
import { createLogger } from '@marquee/logger';
import { WebhookQueue } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import { createTestDatabase, uniquePrefix, workerTestEnv } from '@marquee/testing';
import { createWebhookDispatcher, newWebhookSecret } from '@marquee/webhooks';
import { createWorkerRuntime, workerEnvSchema } from '@marquee/worker';
import { writeSection } from './results.writer.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const HOOKS = Number(process.env.BENCH_HOOKS ?? 200);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const TRIGGERS = ['events_inserted_changes', 'events_updated_changes', 'events_deleted_changes'];

const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(', ');
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const events = (round: number, changed: number): EventRecord[] =>
  Array.from({ length: EVENTS }, (_, i) => ({
    externalKey: `e${i}`,
    title: `Event ${i} ${i < changed ? `v${round}` : ''}`,
    startsAt: new Date(Date.UTC(2027, 0, 1) + i * 60_000),
    endsAt: null,
    timezone: 'UTC',
    minPrice: '10.00',
    maxPrice: '20.00',
    currency: 'EUR',
    online: true,
    venue: {
      name: `Venue ${i % 500}`,
      city: 'Madrid',
      address: null,
      country: 'ES',
      lat: null,
      lon: null,
    },
  }));

/** First ingest and a 5%-changed re-ingest, seconds each, triggers on or off. */
async function ingestRound(db: Db, round: number, triggers: boolean) {
  for (const name of TRIGGERS) {
    await db.$executeRawUnsafe(
      `ALTER TABLE events ${triggers ? 'ENABLE' : 'DISABLE'} TRIGGER ${name}`,
    );
  }
  const provider = await new ProviderRepository(db).create({
    name: `bench-${round}-${triggers}`,
    kind: 'fever-xml',
    url: 'http://127.0.0.1/feed.xml',
    everySeconds: 3600,
    timezone: 'UTC',
  });
  const repository = new EventRepository(db);
  const timed = async (batch: EventRecord[]) => {
    const started = performance.now();
    await repository.upsertMany(provider, batch, new Date());
    return (performance.now() - started) / 1000;
  };
  const first = await timed(events(0, 0));
  const changed = await timed(events(1, EVENTS * 0.05));
  const unchanged = await timed(events(1, EVENTS * 0.05));
  return { first, changed, unchanged, provider };
}

async function triggerCost(db: Db) {
  const rows: (Awaited<ReturnType<typeof ingestRound>> & { triggers: boolean })[] = [];
  for (let round = 0; round < 3; round += 1) {
    for (const triggers of [true, false]) {
      const result = await ingestRound(db, round, triggers);
      rows.push({ triggers, ...result });
    }
  }
  for (const name of TRIGGERS)
    await db.$executeRawUnsafe(`ALTER TABLE events ENABLE TRIGGER ${name}`);
  const median = (on: boolean, key: 'first' | 'changed' | 'unchanged') =>
    percentile(
      rows
        .filter((r) => r.triggers === on)
        .map((r) => r[key])
        .sort((a, b) => a - b),
      50,
    );
  return { rows, median };
}

async function feedThroughput(db: Db) {
  const redis = createRedis(REDIS_URL, 'fail-fast');
  const prefix = uniquePrefix('bench-changes');
  const app = createApp({
    events: new EventRepository(db),
    cache: new SearchCache({ redis, prefix, ttlSeconds: 60 }),
    logger: createLogger({ service: 'api', level: 'error' }),
    providers: new ProviderStatusRepository(db),
    changes: { repository: new ChangeRepository(db), retentionDays: 30 },
    checks: { database: () => Promise.resolve(), redis: () => Promise.resolve() },
  });
  const server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const started = performance.now();
  let read = 0;
  let cursor: string | undefined;
  for (;;) {
    const query = cursor ? `after=${cursor}&limit=1000` : 'limit=1000';
    const body = (await (await fetch(`${url}/v1/changes?${query}`)).json()) as {
      data: { changes: unknown[]; next_cursor: string; has_more: boolean };
    };
    read += body.data.changes.length;
    cursor = body.data.next_cursor;
    if (!body.data.has_more) break;
  }
  const seconds = (performance.now() - started) / 1000;
  server.close();
  redis.disconnect();
  return { read, seconds, perSecond: read / seconds };
}

async function webhookLatency(databaseUrl: string, db: Db, provider: Provider) {
  const latencies: number[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const { timestamp } = JSON.parse(body) as { timestamp: string };
      latencies.push(Date.now() - new Date(timestamp).getTime());
      res.writeHead(204).end();
    });
  }).listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const prefix = uniquePrefix('bench-hooks');
  const env = parseEnv(
    workerEnvSchema,
    workerTestEnv(databaseUrl, prefix, { ALLOW_PRIVATE_WEBHOOKS: 'true', LOG_LEVEL: 'error' }),
  );
  const runtime = createWorkerRuntime(env);
  runtime.createWebhookWorker();
  const queueRedis = createRedis(REDIS_URL, 'blocking');
  const queue = new WebhookQueue(
    { connection: queueRedis, prefix },
    { attempts: 3, backoffMs: 100 },
  );
  const webhooks = new WebhookRepository(db);
  const dispatcher = createWebhookDispatcher(db, queue);
  await dispatcher.pass();
  await webhooks.add({
    url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
    secret: newWebhookSecret(),
    kinds: ['updated'],
    provider: null,
  });
  let dispatching = true;
  // The scheduler's default interval.
  const loop = (async () => {
    while (dispatching) {
      await dispatcher.pass();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  })();
  const repository = new EventRepository(db);
  const base = events(7, 0).slice(0, 1)[0]!;
  for (let i = 0; i < HOOKS; i += 1) {
    await repository.upsertMany(provider, [{ ...base, title: `hook ${i}` }], new Date());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  while (latencies.length < HOOKS) await new Promise((resolve) => setTimeout(resolve, 50));
  dispatching = false;
  await loop;
  await queue.close();
  await runtime.close();
  queueRedis.disconnect();
  receiver.close();
  const sorted = [...latencies].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

const before = load();
const database = await createTestDatabase('bench_changes');
const db = createDb({ databaseUrl: database.url, maxConnections: 8 });
try {
  const cost = await triggerCost(db);
  const feed = await feedThroughput(db);
  const hooks = await webhookLatency(database.url, db, cost.rows[0]!.provider);
  const s = (n: number) => `${n.toFixed(3)} s`;
  const body = `## Change feed and webhooks

Run ${new Date().toISOString()} by \`pnpm bench:changes\`, load average ${before} before and ${load()} after
(2 cores shared with other work). ${EVENTS} events with venues through the bulk writer
(\`EventRepository.upsertMany\`: COPY on a first ingest, stage + merge after), the change triggers
enabled or disabled, alternating, 3 rounds; medians.

| ${EVENTS} events | triggers on | triggers off | on / off |
| --- | --- | --- | --- |
| first ingest (COPY) | ${s(cost.median(true, 'first'))} | ${s(cost.median(false, 'first'))} | ${(cost.median(true, 'first') / cost.median(false, 'first')).toFixed(2)}x |
| 5% changed re-ingest (merge) | ${s(cost.median(true, 'changed'))} | ${s(cost.median(false, 'changed'))} | ${(cost.median(true, 'changed') / cost.median(false, 'changed')).toFixed(2)}x |
| unchanged re-ingest (merge, nothing written) | ${s(cost.median(true, 'unchanged'))} | ${s(cost.median(false, 'unchanged'))} | ${(cost.median(true, 'unchanged') / cost.median(false, 'unchanged')).toFixed(2)}x |

| change feed | value |
| --- | --- |
| \`GET /v1/changes?limit=1000\` read to the end, event bodies included | ${feed.read} changes in ${feed.seconds.toFixed(2)} s: **${Math.round(feed.perSecond)} changes/s** |
| webhook, commit → delivery (dispatcher every 1 s, ${hooks.count} changes 20 ms apart) | p50 **${hooks.p50} ms**, p99 **${hooks.p99} ms** |
`;
  console.log(body);
  writeSection('Change feed and webhooks', body);
} finally {
  await db.$disconnect();
  await database.drop();
}
