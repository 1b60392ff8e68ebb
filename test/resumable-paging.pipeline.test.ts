// Resumable paging through the real worker runtime (BullMQ on Redis, PostgreSQL): a sync of a
// paged API that is rate-limited (429 + Retry-After) or hit by a 502 part-way resumes at the first
// page not yet fetched, never at page 1; the server answers each page once per sync, plus the one
// failed page. A walk stopped at maxPages while the API has more is flagged `truncated`.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Db, NewProvider, Provider, ProviderRepository } from '@marquee/db';
import {
  apiEvents,
  startDiscogsLikeServer,
  startVivenuLikeServer,
  type PagedApiServer,
} from '@marquee/testing';
import type { SyncSummary } from '@marquee/worker';
import { startPipelineStack, type PipelineStack } from './pipeline.stack.ts';

const TOKEN_ENV = 'MARQUEE_TEST_PAGING_TOKEN';
const TOKEN = 'vivenu-secret-7';
const HOUR = 3_600_000;

let stack: PipelineStack;
let db: Db;
let providers: ProviderRepository;
let discogs: PagedApiServer;
let vivenu: PagedApiServer;
/** The syncs' clock: a test moves it past markSeen's granularity. */
let clock = Date.now();

beforeAll(async () => {
  process.env[TOKEN_ENV] = TOKEN;
  stack = await startPipelineStack({
    label: 'paging',
    workerEnv: { WORKER_CONCURRENCY: '1' },
    runtime: { now: () => new Date(clock) },
  });
  ({ db, providers } = stack);
  // 25 requests a minute, as Discogs allows without a token; here a window of 3 s and 10
  // requests, so the walk of 14 pages meets the limit at page 11 within a short test.
  discogs = await startDiscogsLikeServer({
    events: apiEvents(56, 'dg'),
    limit: 10,
    windowMs: 3_000,
  });
  vivenu = await startVivenuLikeServer({ events: apiEvents(95, 'vv'), token: TOKEN });
});

afterAll(async () => {
  delete process.env[TOKEN_ENV];
  await stack.close();
  await Promise.all([discogs.close(), vivenu.close()]);
});

const sync = (provider: Provider): Promise<SyncSummary> =>
  stack.sync(provider, { attempts: 3, backoff: { type: 'fixed', delay: 100 } }, 30_000);

/** The server's answers, as `page status` → count, sorted. */
function answered(server: PagedApiServer): [string, number][] {
  const answers = [...server.answers.entries()].sort(([a], [b]) =>
    a.localeCompare(b, 'en', { numeric: true }),
  );
  server.answers.clear();
  return answers;
}

/** A json-api provider, hourly in Madrid's time. */
const addJsonApi = (name: string, url: string, config: NewProvider['config']) =>
  providers.create({
    name,
    kind: 'json-api',
    url,
    everySeconds: 3600,
    timezone: 'Europe/Madrid',
    config,
  });

const okOnce = (pages: string[]): [string, number][] => pages.map((page) => [`${page} 200`, 1]);

async function runsOf(provider: Provider) {
  return db.syncRun.findMany({
    where: { providerId: provider.id },
    orderBy: { startedAt: 'asc' },
    select: {
      status: true,
      flag: true,
      truncated: true,
      parsed: true,
      error: true,
      finishedAt: true,
      resumesAt: true,
    },
  });
}

async function storedKeys(provider: Provider): Promise<string[]> {
  const rows = await db.event.findMany({
    where: { providerId: provider.id },
    select: { externalKey: true },
  });
  return rows
    .map((row) => row.externalKey)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

const discogsConfig = {
  items: 'results',
  fields: { id: 'id', title: 'title', start: 'date', venueName: 'venue.name' },
  pagination: {
    type: 'page',
    pageParam: 'page',
    sizeParam: 'per_page',
    size: 4,
    totalPagesPath: 'pagination.pages',
  },
  maxPages: 50,
};

describe('a Discogs-like API: page/per_page, a request budget, 429 with Retry-After', () => {
  let provider: Provider;

  beforeAll(async () => {
    provider = await addJsonApi('discogs-like', `${discogs.url}/events`, discogsConfig);
  });

  it('a sync delayed by the 429 resumes at the page it was refused, not page 1', async () => {
    const summary = await sync(provider);
    expect(summary).toMatchObject({ fetched: 56, parsed: 56, upserted: 56, rejected: 0 });
    expect(summary.truncated).toBeUndefined();
    const pages = Array.from({ length: 14 }, (_, index) => `page=${index + 1}`);
    expect(answered(discogs)).toEqual(
      [...okOnce(pages), ['page=11 429', 1] as [string, number]].sort(([a], [b]) =>
        a.localeCompare(b, 'en', { numeric: true }),
      ),
    );
    expect(await storedKeys(provider)).toEqual(apiEvents(56, 'dg').map((event) => event.id));
    const runs = await runsOf(provider);
    // The 429 put the job off: its run waited (not failed) until the resume, which succeeded.
    expect(runs.map((run) => run.status)).toEqual(['waiting', 'succeeded']);
    expect(runs[0]?.error).toMatch(/429/);
    const waited = (runs[0]?.resumesAt?.getTime() ?? 0) - (runs[0]?.finishedAt?.getTime() ?? 0);
    // Retry-After: the rest of the server's 3 s window, in whole seconds.
    expect(waited).toBeGreaterThan(0);
    expect(waited).toBeLessThanOrEqual(3_000);
    expect(runs[1]?.resumesAt).toBeNull();
    // The delayed attempt kept pages 1–10; the run that resumed counts the whole walk.
    expect(runs[0]?.parsed).toBe(40);
    expect(runs[1]).toMatchObject({ flag: null, truncated: false, parsed: 56 });
  });
});

const vivenuConfig = {
  items: 'rows',
  fields: { id: '_id', title: 'name', start: 'start', venueName: 'locationName' },
  pagination: {
    type: 'offset',
    offsetParam: 'skip',
    limitParam: 'top',
    limit: 10,
    totalPath: 'total',
  },
  auth: { name: 'Authorization', prefix: 'Bearer ', env: TOKEN_ENV },
};

describe('a vivenu-like API: skip/top, a Bearer token, a 502 part-way', () => {
  let provider: Provider;
  const pages = Array.from({ length: 10 }, (_, index) => `skip=${index * 10}`);

  beforeAll(async () => {
    provider = await addJsonApi('vivenu-like', `${vivenu.url}/api/public/events`, vivenuConfig);
  });

  it('the retry after the 502 resumes at the failed page; every event is stored', async () => {
    vivenu.failNext.add('skip=60');
    expect(await sync(provider)).toMatchObject({ fetched: 95, parsed: 95, upserted: 95 });
    expect(answered(vivenu)).toEqual(
      [...okOnce(pages), ['skip=60 502', 1] as [string, number]].sort(([a], [b]) =>
        a.localeCompare(b, 'en', { numeric: true }),
      ),
    );
    expect(await storedKeys(provider)).toEqual(apiEvents(95, 'vv').map((event) => event.id));
    const runs = await runsOf(provider);
    expect(runs.map((run) => [run.status, run.parsed])).toEqual([
      ['failed', 60],
      ['succeeded', 95],
    ]);
    expect(runs[0]?.error).toMatch(/502/);
  });

  it('a resumed walk is judged whole: earlier pages are neither "shrunk" nor left unseen', async () => {
    clock += 2 * HOUR;
    vivenu.failNext.add('skip=80');
    const summary = await sync(provider);
    // Nothing changed: the pages the first attempt kept were marked seen, none rewritten.
    expect(summary).toMatchObject({ parsed: 95, upserted: 0, unchanged: 95 });
    const runs = await runsOf(provider);
    expect(runs.at(-1)).toMatchObject({ status: 'succeeded', flag: null, parsed: 95 });
    const stale = await db.event.count({
      where: { providerId: provider.id, lastSeenAt: { lt: new Date(clock) } },
    });
    expect(stale).toBe(0);
    answered(vivenu);
  });

  it('the resumed walk hashes as a whole walk: the next identical payload is "unchanged"', async () => {
    expect(await sync(provider)).toMatchObject({ parsed: 95, upserted: 0, changed: false });
    expect((await runsOf(provider)).at(-1)).toMatchObject({ flag: 'unchanged' });
    expect(answered(vivenu)).toEqual(okOnce(pages));
  });
});

describe('maxPages', () => {
  it('a walk stopped at maxPages while the API has more is flagged truncated', async () => {
    const provider = await addJsonApi('vivenu-short', `${vivenu.url}/api/public/events`, {
      ...vivenuConfig,
      maxPages: 3,
    });
    const summary = await sync(provider);
    expect(summary).toMatchObject({ parsed: 30, truncated: true });
    expect((await runsOf(provider)).at(-1)).toMatchObject({
      status: 'succeeded',
      truncated: true,
    });
    answered(vivenu);
  });
});

describe('an items path that matches nothing', () => {
  it('flags the run empty naming the path, on a first sync too; stored events stay', async () => {
    const provider = await addJsonApi('vivenu-wrong-path', `${vivenu.url}/api/public/events`, {
      ...vivenuConfig,
      items: 'data',
    });
    const reason = 'items path "data" matched nothing';
    expect(await sync(provider)).toMatchObject({ parsed: 0, changed: false, empty: reason });
    expect((await runsOf(provider)).at(-1)).toMatchObject({
      status: 'succeeded',
      flag: 'empty',
      error: reason,
    });
    expect(await db.providerFetchState.count({ where: { providerId: provider.id } })).toBe(0);

    const stocked = await providers.findByName('vivenu-like');
    if (!stocked) throw new Error('vivenu-like is gone');
    const before = await storedKeys(stocked);
    await db.provider.update({
      where: { id: stocked.id },
      data: { config: { ...vivenuConfig, items: 'data' } },
    });
    expect(await sync(stocked)).toMatchObject({ empty: reason });
    expect((await runsOf(stocked)).at(-1)).toMatchObject({ flag: 'empty', error: reason });
    expect(await storedKeys(stocked)).toEqual(before);
    expect(before).toHaveLength(95);
    answered(vivenu);
  });
});
