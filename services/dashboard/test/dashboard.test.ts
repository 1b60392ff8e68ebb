// The dashboard over HTTP on a real Postgres and Redis: authentication (basic, bearer, none),
// the provider status page (escaped), Bull Board mounted at its base path, read-only mode, the
// ops endpoints, and the refusal to start without credentials.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import {
  createDb,
  EventRepository,
  ProviderRepository,
  ProviderStatusRepository,
  SyncRunRepository,
  WebhookRepository,
  type Db,
} from '@marquee/db';
import { createLogger } from '@marquee/logger';
import { createMetricsRegistry, registerQueueDepthGauge } from '@marquee/metrics';
import { breakerReader, describeBreaker, ProviderStatusReader } from '@marquee/provider-status';
import { IngestQueue } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import {
  createTestDatabase,
  eventRecord,
  runTs,
  uniquePrefix,
  type TestDatabase,
} from '@marquee/testing';
import { reportOpenBreaker } from './breaker.reports.ts';
import { createDashboardApp, QUEUES_PATH } from '../src/dashboard.app.ts';
import { redisLoginThrottle } from '../src/login.throttle.ts';

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

async function serve(
  readOnly: boolean,
  trustProxy = 0,
  throttlePrefix = uniquePrefix('login'),
): Promise<string> {
  const registry = createMetricsRegistry('dashboard');
  registerQueueDepthGauge(registry, [ingest.queue], { dueWindowSeconds: 30 });
  const app = createDashboardApp({
    queues: [ingest.queue],
    ingest,
    readOnly,
    credentials: { basic: { user: USER, password: PASSWORD }, token: TOKEN },
    // Each server its own throttle keys: the tests' wrong logins never lock out another server.
    loginThrottle: redisLoginThrottle({ redis, prefix: throttlePrefix, maxFailures: 10 }),
    trustProxy,
    providerStatus: new ProviderStatusReader({
      statuses: new ProviderStatusRepository(db),
      breakers: breakerReader(redis, prefix),
    }),
    webhooks: new WebhookRepository(db),
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
  await reportOpenBreaker(redis, prefix, hostile.id, {
    lastError: 'HTTP 503',
    probeInMs: 60_000,
    reportedBy: 'test:1',
  });
  const steady = await providers.create({
    name: 'steady',
    kind: 'fever-xml',
    url: 'https://feeds.example.com/s.xml',
    everySeconds: 3600,
    timezone: 'UTC',
  });
  await new EventRepository(db).upsertMany(
    steady,
    ['a', 'b', 'c'].map((key) =>
      eventRecord({
        externalKey: key,
        title: `Show ${key}`,
        startsAt: new Date('2030-01-01T20:00:00Z'),
      }),
    ),
    new Date(),
  );
  const good = await runs.start(steady.id, 'manual', 'job-2');
  await runs.succeed(
    good.id,
    { fetched: 3, parsed: 3, upserted: 3, unchanged: 0, rejected: 0 },
    [],
  );
  const limited = await providers.create({
    name: 'limited',
    kind: 'json-api',
    url: 'https://api.example.com/events',
    everySeconds: 3600,
    timezone: 'UTC',
  });
  const waiting = await runs.start(limited.id, 'schedule', 'job-3');
  await runs.wait(waiting.id, 'HTTP 429 Too Many Requests; retry after 20000 ms', RESUMES_AT, {
    fetched: 8,
    upserted: 8,
  });
  // Queue depth: the scheduler's first run and a manual sync wait, a retry is due, one is later.
  await ingest.upsertSchedule(steady);
  await ingest.enqueueSync({ providerId: steady.id, provider: 'steady', trigger: 'manual' });
  await ingest.enqueueSync({ providerId: steady.id, trigger: 'manual' }, { delay: 1 });
  await ingest.enqueueSync({ providerId: steady.id, trigger: 'manual' }, { delay: 3_600_000 });
  await seedWebhooks();
  writable = await serve(false);
  readOnly = await serve(true);
});

const RESUMES_AT = new Date('2030-01-01T10:00:20.000Z');

const WEBHOOK_SECRET = 'whsec_c2VjcmV0LW5ldmVyLW9uLXRoZS1wYWdl';

/** One endpoint with a delivered message, a dead letter and one pending; another never sent to. */
async function seedWebhooks(): Promise<void> {
  const webhooks = new WebhookRepository(db);
  const failing = await webhooks.add({
    url: 'https://hooks.example.com/in?a=<b>&c=1',
    secret: WEBHOOK_SECRET,
    kinds: ['created', 'cancelled'],
    provider: 'steady',
  });
  await webhooks.add({
    url: 'https://quiet.example.com/hook',
    secret: WEBHOOK_SECRET,
    kinds: ['updated'],
    provider: null,
  });
  const message = (id: string, status: string, extra: object = {}) =>
    db.webhookMessage.create({
      data: {
        id,
        endpointId: failing.id,
        payload: '{}',
        status,
        changedAt: new Date(),
        ...extra,
      },
    });
  await message('msg_delivered', 'delivered', {
    attempts: 1,
    finishedAt: new Date('2026-12-07T01:02:03.000Z'),
  });
  await message('msg_dead', 'failed', {
    attempts: 8,
    lastError: 'HTTP 500 from <receiver>',
    finishedAt: new Date(),
  });
  await message('msg_pending', 'pending');
}

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
      /^marquee_queue_jobs\{queue="ingest",state="waiting",service="dashboard"\} 2$/m,
    );
  });

  it('refuses to start without credentials, naming the variable and never a value', async () => {
    // Run with only what it needs: no credential of this process's environment leaks in.
    const main = (env: Record<string, string>) =>
      runTs('services/dashboard/src/main.ts', [], {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: database.url,
        DASHBOARD_PORT: '0',
        ...env,
      });
    const result = await main({ DASHBOARD_USER: 'ops' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('DASHBOARD_PASSWORD: is required with DASHBOARD_USER');
    const none = await main({ DASHBOARD_PASSWORD: 'short' });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('DASHBOARD_PASSWORD: must be at least 12 characters');
    expect(none.stderr).not.toContain('short');
  });
});

describe('provider status page', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('lists every provider with its last sync, breaker and settings, all escaped', async () => {
    const page = await fetch(`${writable}/`, { headers: auth });
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
    expect(html).toContain('every 10m');
    expect(html).toContain('quiet');
    expect(html).toContain('<span class="muted">disabled</span>');
    expect(html).toContain('never synced');
  });

  it('shows a run put off by a rate limit as waiting, with when it resumes, never as failed', async () => {
    const row = rowOf(await (await fetch(`${writable}/`, { headers: auth })).text(), 'limited');
    expect(row).toContain('<span class="warn">waiting</span> (schedule)');
    expect(row).toContain(
      'resumes at <time datetime="2030-01-01T10:00:20.000Z">2030-01-01 10:00:20Z</time>',
    );
    expect(row).toContain(
      '<span class="warn">HTTP 429 Too Many Requests; retry after 20000 ms</span>',
    );
    expect(row).not.toContain('failed');
  });

  it('shows the breaker exactly as `providers list` does, events, last success and a refresh', async () => {
    const { providers } = await new ProviderStatusReader({
      statuses: new ProviderStatusRepository(db),
      breakers: breakerReader(redis, prefix),
    }).read();
    const html = await (await fetch(`${writable}/`, { headers: auth })).text();
    for (const view of providers) {
      const row = rowOf(html, view.name);
      expect(row).toContain(`<span class="${view.breaker?.state === 'open' ? 'bad' : 'ok'}">`);
      expect(row).toContain(escape(describeBreaker(view.breaker)));
    }
    expect(rowOf(html, 'quiet')).toContain('<span class="ok">closed</span>');
    expect(rowOf(html, 'acme<script>alert(1)</script>')).toMatch(/open until \d{4}-.*: HTTP 503/);
    const steady = rowOf(html, 'steady');
    expect(steady).toContain('<td class="num">3</td>'); // events stored
    expect(steady).toMatch(/<time datetime="\d{4}-[^"]+Z">/); // last success
    expect(rowOf(html, 'quiet')).toContain('<span class="muted">never</span>');
    expect(html).toContain('<meta http-equiv="refresh" content="10">');
  });

  it('shows the queue depth and links each provider to its jobs in Bull Board', async () => {
    const html = await (await fetch(`${writable}/`, { headers: auth })).text();
    const depth = /<ul class="depth"[^]*?<\/ul>/.exec(html)?.[0] ?? '';
    const count = (label: string) =>
      Number(new RegExp(`${label} <b[^>]*>(\\d+)</b>`).exec(depth)?.[1] ?? NaN);
    // Waiting: the scheduler's first run and a manual sync; a delayed job is due (no worker
    // promoted it), another is an hour away.
    expect({
      waiting: count('waiting'),
      active: count('active'),
      due: count('delayed, due'),
      scheduled: count('scheduled'),
      failed: count('failed'),
    }).toEqual({ waiting: 2, active: 0, due: 1, scheduled: 1, failed: 0 });
    expect(depth).toContain(`href="${QUEUES_PATH}/queue/ingest?status=failed"`);

    const steady = rowOf(html, 'steady');
    const next = /<a href="([^"]+)">next run<\/a>/.exec(steady)?.[1];
    expect(next).toMatch(new RegExp(`^${QUEUES_PATH}/queue/ingest/repeat%3Async-steady%3A\\d+$`));
    const job = await fetch(
      `${writable}${QUEUES_PATH}/api/queues/ingest/${next!.split('/').pop()}`,
      {
        headers: auth,
      },
    );
    expect(job.status).toBe(200);
    expect(((await job.json()) as { job: { name: string } }).job.name).toBe(
      'provider.sync · steady',
    );
    expect(rowOf(html, 'acme<script>alert(1)</script>')).toContain(
      `<a href="${QUEUES_PATH}/queue/ingest/job-1">last job</a>`,
    );
  });
});

describe('webhook endpoints on the status page', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('shows each endpoint: url, filter, last delivery, backlog, dead letters, escaped, no secret', async () => {
    const html = await (await fetch(`${writable}/`, { headers: auth })).text();
    const table = /<table aria-label="webhook endpoints">[^]*?<\/table>/.exec(html)?.[0] ?? '';
    expect(html).not.toContain(WEBHOOK_SECRET);
    expect(html).not.toContain('c2VjcmV0LW5ldmVyLW9uLXRoZS1wYWdl');
    const rows = table.match(/<tr id="webhook-[^]*?<\/tr>/g) ?? [];
    expect(rows).toHaveLength(2);
    const failing = rows[0] ?? '';
    expect(failing).toContain('https://hooks.example.com/in?a=&lt;b&gt;&amp;c=1');
    expect(failing).toContain('created, cancelled<br><span class="muted">provider steady</span>');
    expect(failing).toContain('<time datetime="2026-12-07T01:02:03.000Z">');
    expect(failing).toMatch(
      /<td class="num">1<\/td><td class="num warn">1<\/td>\s*<td class="num bad">1<\/td>/,
    );
    expect(failing).toContain('HTTP 500 from &lt;receiver&gt;');
    const quiet = rows[1] ?? '';
    expect(quiet).toContain('https://quiet.example.com/hook');
    expect(quiet).toContain('<span class="muted">never</span>');
    expect(quiet).toMatch(
      /<td class="num">0<\/td><td class="num">0<\/td>\s*<td class="num">0<\/td>/,
    );
  });
});

describe('Bull Board', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('links back to the status page and asks no other host for anything', async () => {
    const html = await (await fetch(`${writable}${QUEUES_PATH}`, { headers: auth })).text();
    expect(html).not.toMatch(/(?:href|src)="(?:https?:)?\/\//);
    const config = JSON.parse(
      /<script id="__UI_CONFIG__" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1] ??
        '{}',
    ) as { miscLinks?: unknown };
    expect(config.miscLinks).toEqual([{ text: 'Provider status', url: '/' }]);
    const fonts = [...html.matchAll(/href="(fonts\/[^"]+\.css)"/g)].map((match) => match[1]!);
    expect(fonts).toHaveLength(5);
    for (const sheet of fonts) {
      const css = await fetch(`${writable}${QUEUES_PATH}/${sheet}`, { headers: auth });
      expect({ sheet, status: css.status }).toEqual({ sheet, status: 200 });
      const font = /url\(\.\/(files\/[^)]+latin-\d+-normal\.woff2)\)/.exec(await css.text())?.[1];
      const file = await fetch(`${writable}${QUEUES_PATH}/${sheet.replace(/[^/]+$/, '')}${font}`, {
        headers: auth,
      });
      expect({ font, status: file.status }).toEqual({ font, status: 200 });
    }
  });
});

describe('login throttle', () => {
  const wrong = { authorization: basic(USER, 'not the password') };

  it('answers 429 with Retry-After after 10 wrong logins in a minute, to that client only', async () => {
    const proxied = await serve(false, 1);
    const from = (ip: string, headers: Record<string, string>) =>
      fetch(`${proxied}/`, { headers: { ...headers, 'x-forwarded-for': ip } });
    for (let attempt = 1; attempt <= 10; attempt += 1)
      expect((await from('203.0.113.7', wrong)).status).toBe(401);
    const refused = await from('203.0.113.7', wrong);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // Even the right password: a locked-out client learns nothing from its next guesses.
    expect((await from('203.0.113.7', { authorization: basic(USER, PASSWORD) })).status).toBe(429);
    expect((await from('198.51.100.2', { authorization: basic(USER, PASSWORD) })).status).toBe(200);
    expect((await from('198.51.100.2', wrong)).status).toBe(401);
  });

  it('counts across replicas that share Redis', async () => {
    const shared = uniquePrefix('login-shared');
    const replicas = [await serve(false, 0, shared), await serve(false, 0, shared)];
    for (let attempt = 0; attempt < 10; attempt += 1)
      expect((await fetch(`${replicas[attempt % 2]}/`, { headers: wrong })).status).toBe(401);
    for (const replica of replicas)
      expect((await fetch(`${replica}/`, { headers: wrong })).status).toBe(429);
  });

  it('does not let a client pick its address when no proxy is trusted', async () => {
    const direct = await serve(false, 0);
    for (let attempt = 1; attempt <= 10; attempt += 1) {
      const response = await fetch(`${direct}/`, {
        headers: { ...wrong, 'x-forwarded-for': `192.0.2.${attempt}` },
      });
      expect(response.status).toBe(401);
    }
    const response = await fetch(`${direct}/`, {
      headers: { ...wrong, 'x-forwarded-for': '192.0.2.99' },
    });
    expect(response.status).toBe(429);
  });
});

function rowOf(html: string, name: string): string {
  return (
    new RegExp(
      `<tr id="provider-${escape(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}">[^]*?</tr>`,
    ).exec(html)?.[0] ?? ''
  );
}

function escape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

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
