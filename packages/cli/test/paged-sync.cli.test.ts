// `marquee` as a process against a real worker and a vivenu-like API (skip/top, a Bearer token):
// a walk stopped at maxPages says `truncated` in `sync --wait` and `providers list`; an items path
// that matches nothing says `empty` naming the path there, and fails `providers test` (exit 1);
// `providers test` reads a real RSS event feed declared utf-16 over UTF-8 bytes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import {
  apiEvents,
  createTestDatabase,
  REPO_ROOT,
  runMarquee,
  startFeedServer,
  startTs,
  startVivenuLikeServer,
  uniquePrefix,
  type FeedServer,
  type LongRunning,
  type PagedApiServer,
  type TestDatabase,
} from '@marquee/testing';

const REDIS_URL = 'redis://127.0.0.1:6379/0';
const TOKEN_ENV = 'MARQUEE_TEST_CLI_PAGING_TOKEN';
const TOKEN = 'vivenu-cli-3';
const RSS = readFileSync(
  join(
    REPO_ROOT,
    'packages/providers/test/fixtures/real/xml/leinelab_php-icalendar_rss2_2015-01.xml',
  ),
  'utf8',
);

let database: TestDatabase;
let prefix: string;
let env: NodeJS.ProcessEnv;
let dir: string;
let api: PagedApiServer;
let feed: FeedServer;
let worker: LongRunning;
const marquee = (...args: string[]) => runMarquee(args, env);

function configFile(name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

const vivenuConfig = (extra: Record<string, unknown>) => ({
  items: 'rows',
  fields: { id: '_id', title: 'name', start: 'start', venueName: 'locationName' },
  pagination: { type: 'offset', offsetParam: 'skip', limitParam: 'top', limit: 5 },
  auth: { name: 'Authorization', prefix: 'Bearer ', env: TOKEN_ENV },
  ...extra,
});

beforeAll(async () => {
  database = await createTestDatabase('cli_paged_sync');
  prefix = uniquePrefix('cli-paged-sync');
  dir = mkdtempSync(join(tmpdir(), 'marquee-cli-paging-'));
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    ALLOW_PRIVATE_PROVIDERS: 'true',
    [TOKEN_ENV]: TOKEN,
  };
  api = await startVivenuLikeServer({ events: apiEvents(23, 'cli'), token: TOKEN });
  feed = await startFeedServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/rss+xml' });
    response.end(Buffer.from(`<?xml version="1.0" encoding="utf-16"?>\r\n${RSS}`, 'utf8'));
  });
  worker = startTs('services/worker/src/main.ts', {
    ...env,
    LOG_LEVEL: 'error',
    METRICS_PORT: '0',
    WORKER_CONCURRENCY: '1',
    POLITE_MIN_DELAY_MS: '0',
  });
  for (const [name, config] of [
    ['short', vivenuConfig({ maxPages: 2 })],
    ['wrong-path', vivenuConfig({ items: 'data' })],
  ] as const) {
    const added = await marquee(
      'providers',
      'add',
      name,
      '--kind',
      'json-api',
      '--url',
      `${api.url}/api/public/events`,
      '--config',
      configFile(`${name}.json`, config),
    );
    expect(added.code).toBe(0);
  }
});

afterAll(async () => {
  await worker.stop();
  await Promise.all([api.close(), feed.close()]);
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('sync --wait and providers list', () => {
  it('a walk stopped at maxPages says truncated', async () => {
    const result = await marquee('sync', 'short', '--wait', '--timeout', '60s');
    expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(
      /^short: succeeded; fetched 10, parsed 10, .*; truncated: stopped at maxPages while the provider had more pages$/m,
    );
    const list = await marquee('providers', 'list');
    expect(list.stdout).toMatch(/ok \[truncated\] \(10 upserted/);
  });

  it('an items path that matches nothing says empty, naming the path', async () => {
    const result = await marquee('sync', 'wrong-path', '--wait', '--timeout', '60s');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^wrong-path: succeeded; fetched 0, .*; empty: items path "data" matched nothing, stored events kept$/m,
    );
    const list = await marquee('providers', 'list', '--json');
    const views = JSON.parse(list.stdout) as {
      name: string;
      lastSync: { flag: string; error: string; truncated: boolean };
    }[];
    expect(views.find((view) => view.name === 'wrong-path')?.lastSync).toMatchObject({
      flag: 'empty',
      error: 'items path "data" matched nothing',
      truncated: false,
    });
    expect((await marquee('providers', 'list')).stdout).toMatch(
      /ok \[empty: items path "data" matched nothing\]/,
    );
  });
});

describe('providers test', () => {
  it('fails (exit 1) naming an items path that matches nothing', async () => {
    const result = await marquee(
      'providers',
      'test',
      '--kind',
      'json-api',
      '--url',
      `${api.url}/api/public/events`,
      '--config',
      configFile('test-wrong.json', vivenuConfig({ items: 'events' })),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error: items path "events" matched nothing in the payload of http:\/\/127\.0\.0\.1:\d+\/api\/public\/events$/m,
    );
  });

  it('reads a real RSS event feed declared utf-16 over UTF-8 bytes', async () => {
    const result = await marquee(
      'providers',
      'test',
      '--kind',
      'xml-feed',
      '--url',
      `${feed.url}/rss2.0.php`,
      '--timezone',
      'Europe/Berlin',
    );
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^2 event\(s\), 0 rejected, 2 item\(s\) in the payload$/m);
    expect(result.stdout).toMatch(/Do Jan 1 2015: Un-Cloud yourself +2015-01-01T18:00:00\.000Z/);
  });
});
