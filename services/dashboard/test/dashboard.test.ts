// The dashboard over HTTP on a real Postgres and Redis: authentication (basic, bearer, none),
// the provider status page (escaped), Bull Board mounted at its base path, read-only mode, the
// ops endpoints, and the refusal to start without credentials.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import { createDb, ProviderRepository, SyncRunRepository, type Db } from '@marquee/db';
import { createLogger } from '@marquee/logger';
import { createMetricsRegistry, registerQueueDepthGauge } from '@marquee/metrics';
import { IngestQueue, readBreakerStatuses, writeBreakerStatus } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import { createTestDatabase, runTs, uniquePrefix, type TestDatabase } from '@marquee/testing';
import { createDashboardApp, QUEUES_PATH } from '../src/dashboard.app.ts';
import { providerStatusSource } from '../src/provider-status.source.ts';

const REDIS_URL = 'redis://127.0.0.1:6379/0';
const USER = 'ops';
const PASSWORD = 'correct horse battery staple';
const TOKEN = 'a-long-random-dashboard-token';
const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

let database: TestDatabase;
let db: Db;
const prefix = uniquePrefix('dashboard');
const redis = createRedis(REDIS_URL, 'fail-fast');
const ingest = new IngestQueue({ connection: redis, prefix });
const servers: Server[] = [];

async function serve(readOnly: boolean): Promise<string> {
  const registry = createMetricsRegistry('dashboard');
  registerQueueDepthGauge(registry, [ingest.queue], { dueWindowSeconds: 30 });
  const app = createDashboardApp({
    queues: [ingest.queue],
    readOnly,
    credentials: { basic: { user: USER, password: PASSWORD }, token: TOKEN },
    providerStatus: providerStatusSource({
      providers: new ProviderRepository(db),
      syncRuns: new SyncRunRepository(db),
      breakers: (ids) => readBreakerStatuses(redis, prefix, ids),
    }),
    registry,
    checks: { database: () => db.$queryRaw`SELECT 1`, redis: () => redis.ping() },
    logger: createLogger({ service: 'dashboard-test', level: 'error' }),
  });
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let writable: string;
let readOnly: string;

beforeAll(async () => {
  database = await createTestDatabase('dashboard');
  db = createDb({ databaseUrl: database.url, maxConnections: 4 });
  const providers = new ProviderRepository(db);
  const hostile = await providers.create({
    name: 'acme<script>alert(1)</script>',
    kind: 'fever-xml',
    url: 'https://feeds.example.com/a.xml',
    everySeconds: 600,
    timezone: 'UTC',
  });
  await providers.create({
    name: 'quiet',
    kind: 'fever-xml',
    url: 'https://feeds.example.com/q.xml',
    everySeconds: 3600,
    timezone: 'UTC',
    enabled: false,
  });
  const runs = new SyncRunRepository(db);
  const run = await runs.start(hostile.id, 'schedule', 'job-1');
  await runs.fail(run.id, 'HTTP 503 from <b>upstream</b>', { fetched: 12, rejected: 2 });
  await writeBreakerStatus(redis, prefix, hostile.id, {
    state: 'open',
    lastError: 'HTTP 503',
    probeAt: new Date(Date.now() + 60_000).toISOString(),
    reportedBy: 'test:1',
    updatedAt: new Date().toISOString(),
  });
  writable = await serve(false);
  readOnly = await serve(true);
});

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await ingest.queue.obliterate({ force: true });
  await ingest.close();
  await redis.quit();
  await db.$disconnect();
  await database.drop();
});

describe('authentication', () => {
  it('answers 401 with a WWW-Authenticate challenge without or with wrong credentials', async () => {
    for (const path of ['/', QUEUES_PATH, `${QUEUES_PATH}/api/queues`]) {
      const response = await fetch(`${writable}${path}`);
      expect({ path, status: response.status }).toEqual({ path, status: 401 });
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="Marquee dashboard"/);
    }
    for (const authorization of [
      basic(USER, 'wrong password'),
      basic('root', PASSWORD),
      basic(USER, `${PASSWORD}x`),
      `Bearer ${TOKEN}x`,
      `Bearer ${PASSWORD}`,
      'Basic !!!',
    ]) {
      const response = await fetch(`${writable}/`, { headers: { authorization } });
      expect({ authorization, status: response.status }).toEqual({ authorization, status: 401 });
    }
  });

  it('lets basic auth and the bearer token in', async () => {
    for (const authorization of [basic(USER, PASSWORD), `Bearer ${TOKEN}`]) {
      const page = await fetch(`${writable}/`, { headers: { authorization } });
      expect(page.status).toBe(200);
      const board = await fetch(`${writable}${QUEUES_PATH}`, { headers: { authorization } });
      expect(board.status).toBe(200);
      // Bull Board's page resolves its assets against its basePath, which must be the mount path.
      const html = await board.text();
      expect(html).toContain(`<base href="${QUEUES_PATH}/" />`);
      const asset = /href="(static\/css\/[^"]+)"/.exec(html)?.[1];
      expect(asset).toBeDefined();
      const css = await fetch(`${writable}${QUEUES_PATH}/${asset}`, { headers: { authorization } });
      expect(css.status).toBe(200);
    }
  });

  it('keeps probes and metrics open, without credentials', async () => {
    expect((await fetch(`${writable}/healthz`)).status).toBe(200);
    const ready = await fetch(`${writable}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { database: 'up', redis: 'up' },
    });
    const metrics = await (await fetch(`${writable}/metrics`)).text();
    expect(metrics).toMatch(
      /^marquee_queue_jobs\{queue="ingest",state="waiting",service="dashboard"\} 0$/m,
    );
  });

  it('refuses to start without credentials, naming the variable and never a value', async () => {
    const result = await runTs('services/dashboard/src/main.ts', [], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: database.url,
      DASHBOARD_USER: 'ops',
      DASHBOARD_PORT: '0',
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('DASHBOARD_PASSWORD: is required with DASHBOARD_USER');
    const none = await runTs('services/dashboard/src/main.ts', [], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: database.url,
      DASHBOARD_PASSWORD: 'short',
      DASHBOARD_PORT: '0',
    });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('DASHBOARD_PASSWORD: must be at least 12 characters');
    expect(none.stderr).not.toContain('short');
  });
});

describe('provider status page', () => {
  it('lists every provider with its last sync, breaker and settings, all escaped', async () => {
    const page = await fetch(`${writable}/`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('acme&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('HTTP 503 from &lt;b&gt;upstream&lt;/b&gt;');
    expect(html).toMatch(/<span class="bad">failed<\/span> \(schedule\)/);
    expect(html).toMatch(
      /<td class="num">12<\/td><td class="num">0<\/td><td class="num">0<\/td><td class="num">2<\/td>/,
    );
    expect(html).toContain('<span class="bad">open</span>');
    expect(html).toContain('every 10m');
    expect(html).toContain('quiet');
    expect(html).toContain('<span class="muted">disabled</span>');
    expect(html).toContain('never synced');
  });
});

describe('read-only mode', () => {
  const auth = { authorization: basic(USER, PASSWORD) };

  it('shows the queues but refuses every change', async () => {
    const queues = await fetch(`${readOnly}${QUEUES_PATH}/api/queues`, { headers: auth });
    expect(queues.status).toBe(200);
    const body = (await queues.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(body.queues.map((queue) => [queue.name, queue.readOnlyMode])).toEqual([
      ['ingest', true],
    ]);
    for (const [method, path] of [
      ['PUT', '/api/queues/ingest/pause'],
      ['PUT', '/api/queues/pause'],
      ['PUT', '/api/queues/ingest/retry/failed'],
      ['PUT', '/api/queues/ingest/empty'],
      ['POST', '/api/queues/ingest/add'],
    ] as const) {
      const response = await fetch(`${readOnly}${QUEUES_PATH}${path}`, { method, headers: auth });
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 405 });
    }
    expect(await ingest.queue.isPaused()).toBe(false);
  });

  it('the same call goes through when the board is writable (so the refusal is the mode)', async () => {
    const response = await fetch(`${writable}${QUEUES_PATH}/api/queues/ingest/pause`, {
      method: 'PUT',
      headers: auth,
    });
    expect(response.status).toBe(200);
    expect(await ingest.queue.isPaused()).toBe(true);
    await ingest.queue.resume();
  });
});
