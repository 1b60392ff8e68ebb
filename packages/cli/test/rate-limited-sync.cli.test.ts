// `marquee sync NAME --wait` as a process against a real worker and a Discogs-like API whose
// request budget runs out mid-walk: while the job waits for the provider's Retry-After, the output
// says so and shows the pages and events kept so far (not "0 fetched"); the resumed walk's
// progress goes on from there, and the sync succeeds with every event. Meanwhile `providers
// list` and the provider-status reader say the provider is waiting and when it resumes, not failed.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ProviderStatusRepository } from '@marquee/db';
import { ProviderStatusReader } from '@marquee/provider-status';
import { eventually } from '@marquee/testing';
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
    // The queue is paused once the walk has begun, so the job, once delayed by the 429, stays put
    // off (due, not taken) until the test has read the provider's status.
    stack.api.hold();
    const syncing = stack.bin('sync', 'discogs', '--wait', '--timeout', '90s');
    await eventually(
      () => Promise.resolve(stack.api.answers.size > 0 ? true : undefined),
      30_000,
      "the walk's first request",
    );
    await stack.queue.queue.pause();
    stack.api.release();
    const [listed] = await eventually(
      async () => {
        const { out } = await stack.marquee('providers', 'list', '--json');
        const views = JSON.parse(out) as {
          lastSync: { status: string; finishedAt: string; resumesAt: string | null } | null;
        }[];
        return views[0]?.lastSync && views[0].lastSync.status !== 'running' ? views : undefined;
      },
      60_000,
      'the rate-limited run to end',
    );
    // A second `sync --wait` joins the job while it is put off, and says so at once.
    const joined = await stack.bin('sync', 'discogs', '--wait', '--timeout', '2s');
    expect(joined.stderr).toMatch(
      /^joined the sync of discogs already going on \(job \S+\)\nput off: HTTP 429 Too Many Requests[^\n]*; breaker closed; next try at \S+Z \(in \d+ s\)$/m,
    );
    expect(listed?.lastSync).toMatchObject({
      status: 'waiting',
      error: expect.stringMatching(/^HTTP 429 Too Many Requests/) as unknown as string,
    });
    // Retry-After: the rest of the API's 4 s window, in whole seconds, from when the run ended.
    const resumesAt = Date.parse(listed?.lastSync?.resumesAt ?? '');
    const endedAt = Date.parse(listed?.lastSync?.finishedAt ?? '');
    expect(resumesAt - endedAt).toBeGreaterThan(0);
    expect(resumesAt - endedAt).toBeLessThanOrEqual(4_000);
    const table = await stack.marquee('providers', 'list');
    const shown = new Date(Math.floor(resumesAt / 1_000) * 1_000).toISOString();
    expect(table.out).toContain(
      `waiting, resumes at ${shown.replace(/\.000Z$/, 'Z')}: HTTP 429 Too Many Requests`,
    );
    expect(table.out).not.toMatch(/failed/);
    const report = await new ProviderStatusReader({
      statuses: new ProviderStatusRepository(stack.db),
    }).read();
    expect(report.providers[0]?.lastSync).toMatchObject({
      status: 'waiting',
      resumesAt: listed?.lastSync?.resumesAt,
    });
    // Slow pages from here: the resumed walk outlives the worker's first progress interval.
    stack.api.delayMs = 300;
    await stack.queue.queue.resume();

    const result = await syncing;
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
    // The resumed walk's progress goes on from the kept pages' counts, never from 0 again.
    const after = result.stderr.split(waits[0]!)[1] ?? '';
    const resumed = [...after.matchAll(/: fetching… (\d+) page\(s\), (\d+) fetched/g)];
    expect(resumed.length).toBeGreaterThan(0);
    for (const [, pages, fetched] of resumed) {
      expect(Number(pages)).toBeGreaterThanOrEqual(3);
      expect(Number(fetched)).toBeGreaterThanOrEqual(12);
    }
    // The resumed attempt's run is the provider's last sync now, and it succeeded.
    const done = await stack.marquee('providers', 'list', '--json');
    expect(JSON.parse(done.out)).toMatchObject([
      { lastSync: { status: 'succeeded', upserted: 24, resumesAt: null } },
    ]);
  });
});
