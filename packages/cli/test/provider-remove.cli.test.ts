// Issue 12, item 5: `providers remove` while the provider's sync walks a slow paged API (a
// worker runtime as deployed): the walk stops at its next page (no request to the provider after
// that), the job fails for good with a plain reason, never ORM text, and nothing of the provider
// is left half-written: its events, runs and fetch state are gone with it.
import { expect, it } from '@jest/globals';
import { eventually } from '@marquee/testing';
import { pagedApiConfig, providersAdd, startPagedApi, useCliStack } from './cli.harness.ts';

const PAGES = 40;
const PAGE_DELAY_MS = 300;
const stack = useCliStack({
  label: 'cli-remove',
  api: startPagedApi({ pages: PAGES, delayMs: PAGE_DELAY_MS }),
  worker: 'runtime',
});
const requests = () => stack.api.hits.get('/events') ?? 0;

it('stops the running sync at its next page, with a plain reason, leaving nothing behind', async () => {
  const config = stack.jsonFile('api.json', pagedApiConfig({ maxPages: PAGES }));
  const add = providersAdd('slow', 'json-api', `${stack.api.url}/events`, '--every', '1h');
  expect((await stack.marquee(...add, '--config', config)).code).toBe(0);
  const queued = await stack.marquee('sync', 'slow', '--json');
  const { jobId } = JSON.parse(queued.out) as { jobId: string };
  await eventually(
    () => Promise.resolve(requests() >= 3 ? true : undefined),
    20_000,
    'the walk to start',
  );
  // The provider is removed while the walk waits on a page: once answered, it asks for no other.
  stack.api.hold();
  const before = requests();
  await eventually(
    () => Promise.resolve(requests() > before ? true : undefined),
    10_000,
    'the walk to wait on a page',
  );
  const asked = requests();

  const removed = await stack.marquee('providers', 'remove', 'slow');
  expect(removed).toMatchObject({ code: 0, out: 'removed provider slow and its 0 event(s)' });
  stack.api.release();
  const reason = await eventually(
    async () => {
      const job = await stack.queue.queue.getJob(jobId);
      return (await job?.getState()) === 'failed' ? job?.failedReason : undefined;
    },
    // The bound: stopped within 10 s of the removal.
    10_000,
    'the sync to stop',
  );
  expect(reason).toBe('provider slow was removed; its sync stopped');
  expect(requests()).toBe(asked);
  expect(asked).toBeLessThan(PAGES);
  const { db } = stack;
  expect(await db.event.count()).toBe(0);
  expect(await db.syncRun.count()).toBe(0);
  expect(await db.providerFetchState.count()).toBe(0);

  const failed = await stack.marquee('jobs', 'failed');
  expect(failed.out).toMatch(/provider slow was removed; its sync stopped/);
  expect(`${failed.out}${failed.err}`).not.toMatch(/invocation|prisma|this\.db/i);
});
