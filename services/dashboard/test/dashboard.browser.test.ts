// The dashboard in Debian's Chromium, as an operator uses it: the status page, its links into
// Bull Board (a provider's next run, the queue), Bull Board's menu link back, and not one
// request to another host on the way. Screenshots land in test-artifacts/screenshots/.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { ProviderStatusRepository, SyncRunRepository, WebhookRepository } from '@marquee/db';
import { createLogger } from '@marquee/logger';
import { createMetricsRegistry } from '@marquee/metrics';
import { breakerReader, ProviderStatusReader } from '@marquee/provider-status';
import { IngestQueue } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import { databaseStackFor, eventRecord, uniquePrefix } from '@marquee/testing';
import {
  launchBrowser,
  recordForeignRequests,
  screenshot,
  type Browser,
  type Page,
} from '@marquee/testing/browser';
import { reportOpenBreaker } from './breaker.reports.ts';
import { createDashboardApp } from '../src/dashboard.app.ts';

const USER = 'ops';
const PASSWORD = 'correct horse battery staple';
const prefix = uniquePrefix('dashboard-browser');
const redis = createRedis('redis://127.0.0.1:6379/0', 'fail-fast');
const ingest = new IngestQueue({ connection: redis, prefix });
const stack = databaseStackFor('dashboard_browser', { beforeAll, afterAll }, { maxConnections: 4 });
let server: Server;
let host: string;
let browser: Browser;
let context: Awaited<ReturnType<Browser['newContext']>>;

async function seed(): Promise<void> {
  const providers = stack.providers;
  const runs = new SyncRunRepository(stack.db);
  const base = { kind: 'fever-xml', timezone: 'UTC', everySeconds: 900 };
  const failing = await providers.create({
    ...base,
    name: 'acme-tickets',
    url: 'https://acme.example/feed.xml',
  });
  const run = await runs.start(failing.id, 'schedule', 'job-gone');
  await runs.fail(run.id, 'HTTP 503 Service Unavailable', { fetched: 0 });
  await reportOpenBreaker(redis, prefix, failing.id, {
    lastError: 'HTTP 503 Service Unavailable',
    probeInMs: 45_000,
    reportedBy: 'worker-1:7',
  });
  const steady = await providers.create({
    ...base,
    name: 'sala-sol',
    url: 'https://salasol.example/agenda',
  });
  await stack.events.upsertMany(
    steady,
    ['1', '2', '3', '4'].map((key) =>
      eventRecord({
        externalKey: key,
        title: `Concert ${key}`,
        startsAt: new Date('2030-05-01T20:00:00Z'),
        minPrice: '12.00',
        maxPrice: '30.00',
        currency: 'EUR',
      }),
    ),
    new Date(),
  );
  const good = await runs.start(steady.id, 'schedule', 'job-ok');
  await runs.succeed(
    good.id,
    { fetched: 4, parsed: 4, upserted: 4, unchanged: 0, rejected: 0 },
    [],
  );
  // Rate-limited mid-walk: its job is put off until the provider's Retry-After (no schedule
  // here, so the queue depth stays that of the two scheduled providers).
  const limited = await providers.create({
    ...base,
    kind: 'json-api',
    name: 'discogs-like',
    url: 'https://api.discogs.example/events',
  });
  const paused = await runs.start(limited.id, 'schedule', 'job-waiting');
  await runs.wait(
    paused.id,
    'HTTP 429 Too Many Requests; retry after 42000 ms',
    new Date(Date.now() + 42_000),
    { fetched: 40, upserted: 40 },
  );
  await providers.create({
    ...base,
    name: 'quiet-hall',
    url: 'https://quiet.example/x',
    enabled: false,
  });
  for (const provider of [failing, steady]) await ingest.upsertSchedule(provider);
  await seedWebhooks();
}

/** A healthy endpoint, and one with a dead letter and a backlog, as an operator meets them. */
async function seedWebhooks(): Promise<void> {
  const webhooks = new WebhookRepository(stack.db);
  const add = (url: string, provider: string | null) =>
    webhooks.add({ url, secret: `whsec_${url.length}`, kinds: ['created', 'updated'], provider });
  const mirror = await add('https://hooks.mirror.example/marquee', null);
  const crm = await add('https://crm.example/webhooks/events', 'sala-sol');
  const changes = ['1', '2', '3'].map((key, index) => ({
    xid: '1000',
    position: BigInt(index + 1),
    kind: 'created' as const,
    provider: 'sala-sol',
    changedAt: new Date(),
    payload: JSON.stringify({ type: 'event.created', data: { id: key } }),
  }));
  await webhooks.fanOut(changes, { xid: '1000', position: 3n });
  // The mirror took all three; the CRM's first message is a dead letter, two wait behind it.
  const messages = await stack.db.webhookMessage.findMany({ orderBy: { seq: 'asc' } });
  for (const message of messages.filter((m) => m.endpointId === mirror.id)) {
    await webhooks.recordAttempt(message.id, 'delivered');
  }
  const deadLetter = messages.find((m) => m.endpointId === crm.id);
  await webhooks.recordAttempt(deadLetter?.id ?? '', 'failed', 'HTTP 500 Internal Server Error');
}

beforeAll(async () => {
  await seed();
  const app = createDashboardApp({
    queues: [ingest.queue],
    ingest,
    readOnly: false,
    credentials: { basic: { user: USER, password: PASSWORD } },
    providerStatus: new ProviderStatusReader({
      statuses: new ProviderStatusRepository(stack.db),
      breakers: breakerReader(redis, prefix),
    }),
    webhooks: new WebhookRepository(stack.db),
    registry: createMetricsRegistry('dashboard'),
    checks: {},
    logger: createLogger({ service: 'dashboard-browser-test', level: 'error' }),
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  context = await browser.newContext({
    httpCredentials: { username: USER, password: PASSWORD },
    viewport: { width: 1440, height: 900 },
  });
});

afterAll(async () => {
  await browser.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await ingest.queue.obliterate({ force: true });
  await ingest.close();
  await redis.quit();
});

async function openStatusPage(): Promise<{ page: Page; foreign: string[] }> {
  const page = await context.newPage();
  const foreign = recordForeignRequests(page, [host]);
  await page.goto(`http://${host}/`);
  return { page, foreign };
}

test('the status page shows each provider, the queue depth and refreshes itself', async () => {
  const { page, foreign } = await openStatusPage();
  await expect(page.title()).resolves.toBe('Marquee providers');
  expect(await page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toBe('10');
  const row = (name: string) => page.locator(`tr#provider-${name}`);
  await expect(row('acme-tickets').innerText()).resolves.toMatch(
    /open until .*: HTTP 503 Service Unavailable/,
  );
  await expect(row('sala-sol').innerText()).resolves.toMatch(/\bclosed\b/);
  // Put off by a 429, not failed: when it resumes is shown.
  const limited = await row('discogs-like').innerText();
  expect(limited).toMatch(/\bwaiting \(schedule\)\s+resumes at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/m);
  expect(limited).toMatch(/HTTP 429 Too Many Requests; retry after 42000 ms/);
  expect(limited).not.toMatch(/failed/);
  await expect(page.locator('ul.depth').innerText()).resolves.toMatch(/waiting\s*2/);
  // Below the providers, each webhook endpoint's health (docs/dashboard-status.png shows it).
  const webhooks = page.getByRole('table', { name: 'webhook endpoints' });
  const endpoint = (url: string) => webhooks.locator('tr', { hasText: url });
  await expect(endpoint('https://hooks.mirror.example/marquee').innerText()).resolves.toMatch(
    /created, updated\s+.*ago\s+3\s+0\s+0/s,
  );
  await expect(endpoint('https://crm.example/webhooks/events').innerText()).resolves.toMatch(
    /provider sala-sol\s+never\s+0\s+2\s+1\s+HTTP 500 Internal Server Error/s,
  );
  await screenshot(page, 'dashboard-status');
  expect(foreign).toEqual([]);
  await page.close();
});

test('a provider links to its next run in Bull Board, named after it', async () => {
  const { page, foreign } = await openStatusPage();
  await page.locator('tr#provider-sala-sol').getByRole('link', { name: 'next run' }).click();
  await page.waitForURL(/\/admin\/queues\/queue\/ingest\/repeat/);
  await expect(
    page.getByText('provider.sync · sala-sol').first().waitFor(),
  ).resolves.toBeUndefined();
  await screenshot(page, 'dashboard-bull-board-job');
  expect(foreign).toEqual([]);
  await page.close();
});

test('Bull Board opens from the status page, loads no font or script from elsewhere, and links back', async () => {
  const { page, foreign } = await openStatusPage();
  await page.getByRole('link', { name: /^Queues \(Bull Board/ }).click();
  await page.waitForURL(/\/admin\/queues\/?$/);
  await page.getByText('ingest').first().waitFor();
  // The fonts Bull Board would fetch from Google come from the dashboard itself.
  const plexLoaded = `document.fonts.ready.then(() => document.fonts.check('16px "IBM Plex Sans"'))`;
  expect(await page.evaluate(plexLoaded)).toBe(true);
  await screenshot(page, 'dashboard-bull-board');
  await page.locator('header ul li').last().getByRole('button').click();
  await page.getByText('Provider status').click();
  await page.waitForURL(`http://${host}/`);
  await expect(page.title()).resolves.toBe('Marquee providers');
  expect(foreign).toEqual([]);
  await page.close();
});
