// `marquee sync NAME --wait` as a process against a real worker and a Discogs-like API whose
// request budget runs out mid-walk: while the job waits for the provider's Retry-After, the output
// says so and shows the pages and events kept so far (not "0 fetched"); the resumed walk's
// progress goes on from there, and the sync succeeds with every event.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { pagedApiConfig, providersAdd, startPagedApi, useCliStack } from './cli.harness.ts';

const stack = useCliStack({
  label: 'cli-rate-limited',
  // 6 pages of 4 events; 3 requests per window: the walk meets the 429 at page 4.
  api: startPagedApi({ pages: 6, perPage: 4, limit: 3, windowMs: 4_000 }),
  worker: 'process',
  workerEnv: { WORKER_CONCURRENCY: '1' },
});

beforeAll(async () => {
  const config = stack.jsonFile('discogs.json', pagedApiConfig());
  const add = providersAdd('discogs', 'json-api', `${stack.api.url}/events`, '--config', config);
  expect((await stack.bin(...add)).code).toBe(0);
});

describe('sync --wait on a rate-limited paged provider', () => {
  it("says it waits for the provider's Retry-After, with the pages and events kept so far", async () => {
    const result = await stack.bin('sync', 'discogs', '--wait', '--timeout', '90s');
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
