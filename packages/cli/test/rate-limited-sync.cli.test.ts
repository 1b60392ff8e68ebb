// `marquee sync NAME --wait` as a process against a real worker and a Discogs-like API whose
// request budget runs out mid-walk: while the job waits for the provider's Retry-After, the output
// says so and shows the pages and events kept so far (not "0 fetched"); the resumed walk's
// progress goes on from there, and the sync succeeds with every event.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import {
  apiEvents,
  createTestDatabase,
  runMarquee,
  startDiscogsLikeServer,
  startTs,
  uniquePrefix,
  type LongRunning,
  type PagedApiServer,
  type TestDatabase,
} from '@marquee/testing';

const REDIS_URL = 'redis://127.0.0.1:6379/0';

let database: TestDatabase;
let prefix: string;
let env: NodeJS.ProcessEnv;
let dir: string;
let api: PagedApiServer;
let worker: LongRunning;
const marquee = (...args: string[]) => runMarquee(args, env);

beforeAll(async () => {
  database = await createTestDatabase('cli_rate_limited');
  prefix = uniquePrefix('cli-rate-limited');
  dir = mkdtempSync(join(tmpdir(), 'marquee-cli-rate-limited-'));
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    ALLOW_PRIVATE_PROVIDERS: 'true',
  };
  // 6 pages of 4 events; 3 requests per window: the walk meets the 429 at page 4.
  api = await startDiscogsLikeServer({ events: apiEvents(24, 'rl'), limit: 3, windowMs: 4_000 });
  worker = startTs('services/worker/src/main.ts', {
    ...env,
    LOG_LEVEL: 'error',
    METRICS_PORT: '0',
    WORKER_CONCURRENCY: '1',
    POLITE_MIN_DELAY_MS: '0',
  });
  const config = join(dir, 'discogs.json');
  writeFileSync(
    config,
    JSON.stringify({
      items: 'results',
      fields: { id: 'id', title: 'title', start: 'date', venueName: 'venue.name' },
      pagination: {
        type: 'page',
        pageParam: 'page',
        sizeParam: 'per_page',
        size: 4,
        totalPagesPath: 'pagination.pages',
      },
    }),
  );
  const added = await marquee(
    'providers',
    'add',
    'discogs',
    '--kind',
    'json-api',
    '--url',
    `${api.url}/events`,
    '--config',
    config,
  );
  expect(added.code).toBe(0);
});

afterAll(async () => {
  await worker.stop();
  await api.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('sync --wait on a rate-limited paged provider', () => {
  it("says it waits for the provider's Retry-After, with the pages and events kept so far", async () => {
    const result = await marquee('sync', 'discogs', '--wait', '--timeout', '90s');
    expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(/^discogs: succeeded; fetched 24, parsed 24, upserted 24,/m);
    const waits = result.stderr
      .split('\n')
      .filter((line) => line.includes("waiting for the provider's Retry-After"));
    expect(waits.length).toBeGreaterThan(0);
    // The first wait comes after the budget's 3 pages: their 12 events are kept.
    expect(waits[0]).toMatch(
      /^attempt 1\/\d+: waiting for the provider's Retry-After \(HTTP 429 Too Many Requests[^)]*\); 3 page\(s\), 12 fetched, 12 written so far, resumes at \S+Z \(in \d+ s\); breaker closed$/,
    );
    expect(result.stderr).not.toMatch(/put off/);
    // No progress line after the first wait counts from 0 again.
    const after = result.stderr.split(waits[0]!)[1] ?? '';
    expect(after).not.toMatch(/ 0 fetched/);
  });
});
