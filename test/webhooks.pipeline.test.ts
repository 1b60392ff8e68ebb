// Webhooks end to end on real PostgreSQL and Redis: changes written by the bulk writer, fanned
// out by the dispatcher, delivered by the worker runtime's webhook worker to local receivers,
// verified with the `standardwebhooks` package as a consumer would.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { parseEnv } from '@marquee/config';
import { EventRepository, ProviderRepository, WebhookRepository, type Provider } from '@marquee/db';
import type { EventRecord } from '@marquee/event-model';
import { WebhookQueue } from '@marquee/queue';
import {
  createTestDatabase,
  eventRecord,
  eventually,
  TEST_REDIS_URL,
  uniquePrefix,
  workerTestEnv,
  type TestDatabase,
  feverProvider,
} from '@marquee/testing';
import {
  createWebhookDispatcher,
  newWebhookSecret,
  type WebhookDispatcher,
} from '@marquee/webhooks';
import { createWorkerRuntime, workerEnvSchema, type WorkerRuntime } from '@marquee/worker';
import { createRedis } from '@marquee/redis';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A webhook consumer on 127.0.0.1 answering each message's first `failures` attempts with 500. */
class Receiver {
  readonly requests: Received[] = [];
  private server: Server | undefined;
  url = '';

  constructor(private readonly failures: number) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const id = req.headers['webhook-id'];
        const tries = this.requests.filter((r) => r.headers['webhook-id'] === id).length;
        const status = tries < this.failures ? 500 : 204;
        this.requests.push({ headers: req.headers, body, status });
        res.writeHead(status).end();
      });
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  /** Bodies the receiver acknowledged, in the order it acknowledged them. */
  delivered(): Received[] {
    return this.requests.filter((r) => r.status === 204);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

let database: TestDatabase;
let runtime: WorkerRuntime;
let queue: WebhookQueue;
let dispatcher: WebhookDispatcher;
let webhooks: WebhookRepository;
let events: EventRepository;
let provider: Provider;
const queueRedis = createRedis(TEST_REDIS_URL, 'blocking');
const receivers: Receiver[] = [];
let dispatching = true;
let dispatchLoop: Promise<void> = Promise.resolve();

const record = (key: string, over: Partial<EventRecord> = {}): EventRecord =>
  eventRecord({
    externalKey: key,
    title: `Show ${key}`,
    startsAt: new Date('2027-03-01T20:00:00Z'),
    minPrice: '10.00',
    maxPrice: '20.00',
    currency: 'EUR',
    ...over,
  });

async function receiver(failures: number): Promise<Receiver> {
  const started = new Receiver(failures);
  await started.start();
  receivers.push(started);
  return started;
}

async function until<T>(check: () => T | undefined | false, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  database = await createTestDatabase('webhooks');
  const prefix = uniquePrefix('webhooks');
  const env = parseEnv(
    workerEnvSchema,
    workerTestEnv(database.url, prefix, {
      WEBHOOK_ATTEMPTS: '3',
      WEBHOOK_BACKOFF_MS: '50',
      ALLOW_PRIVATE_WEBHOOKS: 'true',
    }),
  );
  runtime = createWorkerRuntime(env);
  runtime.createWebhookWorker();
  webhooks = new WebhookRepository(runtime.db);
  events = new EventRepository(runtime.db);
  queue = new WebhookQueue({ connection: queueRedis, prefix }, { attempts: 3, backoffMs: 50 });
  dispatcher = createWebhookDispatcher(runtime.db, queue);
  await dispatcher.pass();
  // As the scheduler's leader does, every few milliseconds here.
  dispatchLoop = (async () => {
    while (dispatching) {
      await dispatcher.pass();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  provider = await new ProviderRepository(runtime.db).create(
    feverProvider('hooked', 'http://127.0.0.1/feed.xml'),
  );
}, 30_000);

afterAll(async () => {
  dispatching = false;
  await dispatchLoop;
  await queue.close();
  await runtime.close();
  queueRedis.disconnect();
  await Promise.all(receivers.map((r) => r.close()));
  await database.drop();
});

describe('webhooks', () => {
  it('delivers each change once, in order, signed, after retries; a dead endpoint delays no other', async () => {
    const flaky = await receiver(2);
    const dead = await receiver(Number.POSITIVE_INFINITY);
    const flakySecret = newWebhookSecret();
    const flakyEndpoint = await webhooks.add({
      url: flaky.url,
      secret: flakySecret,
      kinds: ['created', 'updated', 'cancelled'],
      provider: null,
    });
    const deadEndpoint = await webhooks.add({
      url: dead.url,
      secret: newWebhookSecret(),
      kinds: ['created'],
      provider: null,
    });

    await events.upsertMany(provider, [record('a'), record('b')], new Date());
    await events.upsertMany(provider, [record('a', { minPrice: '12.00' })], new Date());
    await events.upsertMany(provider, [record('b', { status: 'cancelled' })], new Date());

    const delivered = await until(
      () => flaky.delivered().length >= 4 && flaky.delivered(),
      "the flaky endpoint's four messages",
    );
    const bodies = delivered.map((r) => JSON.parse(r.body) as { type: string; data: never });
    expect(bodies.map((b) => b.type)).toEqual([
      'event.created',
      'event.created',
      'event.updated',
      'event.cancelled',
    ]);
    const verifier = new Webhook(flakySecret);
    for (const request of flaky.requests) {
      expect(verifier.verify(request.body, request.headers as Record<string, string>)).toEqual(
        JSON.parse(request.body),
      );
    }
    // Three attempts per message, one webhook-id and body across them, each acknowledged once.
    const ids = delivered.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) {
      const attempts = flaky.requests.filter((r) => r.headers['webhook-id'] === id);
      expect(attempts.map((r) => r.status)).toEqual([500, 500, 204]);
      expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
    }
    // One at a time per endpoint: a message's first attempt comes after the previous one's success.
    const firstAttempts = ids.map((id) =>
      flaky.requests.findIndex((r) => r.headers['webhook-id'] === id),
    );
    const successes = delivered.map((r) => flaky.requests.indexOf(r));
    for (let i = 1; i < ids.length; i += 1) {
      expect(firstAttempts[i]).toBeGreaterThan(successes[i - 1] ?? Infinity);
    }

    // The dead endpoint's two messages end as dead letters (3 attempts each), in line again
    // after a retry.
    const failed = await eventually(
      async () => {
        const list = await webhooks.failed(deadEndpoint.id);
        return list.length === 2 ? list : undefined;
      },
      30_000,
      "the dead endpoint's dead letters",
    );
    expect(failed.map((m) => m.attempts)).toEqual([3, 3]);
    expect(failed[0]?.lastError).toMatch(/^HTTP 500/);
    const before = dead.requests.length;
    expect(await webhooks.retry({ endpointId: deadEndpoint.id })).toBe(2);
    await until(() => dead.requests.length >= before + 6, 'the retried attempts');
    // The receiver sees the last attempt before the worker records its failure.
    const counts = await eventually(
      async () => {
        const list = (await webhooks.list()).map((e) => [e.url, e.delivered, e.failed]);
        return list[1]?.[2] === 2 ? list : undefined;
      },
      30_000,
      'the retried messages back among the dead letters',
    );
    expect(counts).toEqual([
      [flaky.url, 4, 0],
      [dead.url, 0, 2],
    ]);
    expect(dead.requests.length).toBe(before + 6);
    await webhooks.remove(flakyEndpoint.id);
    await webhooks.remove(deadEndpoint.id);
  }, 60_000);

  it('stops delivering to a removed endpoint', async () => {
    const removed = await receiver(0);
    const witness = await receiver(0);
    const removedEndpoint = await webhooks.add({
      url: removed.url,
      secret: newWebhookSecret(),
      kinds: ['created', 'updated'],
      provider: null,
    });
    await webhooks.add({
      url: witness.url,
      secret: newWebhookSecret(),
      kinds: ['created', 'updated'],
      provider: 'hooked',
    });
    await events.upsertMany(provider, [record('c')], new Date());
    await until(() => removed.delivered().length === 1 && witness.delivered().length === 1, 'c');

    expect(await webhooks.remove(removedEndpoint.id)).toBe(true);
    await events.upsertMany(provider, [record('c', { title: 'Renamed' })], new Date());
    // The witness getting the update means the dispatcher and the worker handled it.
    await until(() => witness.delivered().length === 2, 'the update at the witness');
    expect(removed.requests).toHaveLength(1);
  }, 60_000);
});
