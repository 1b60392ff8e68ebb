// Issue 12, item 4: one sync at a time per provider, through the CLI with the scheduler and a
// worker runtime (two jobs at a time) running as deployed. `providers add` then `sync --wait` at
// once used to walk the provider twice in parallel (the scheduler's first run and the manual
// one); now the paged stand-in is asked for each page once. A second `sync` joins the running
// one, and a scheduled run during it is skipped, naming the running job.
import { describe, expect, it } from '@jest/globals';
import { eventually } from '@marquee/testing';
import { pagedApiConfig, providersAdd, startPagedApi, useCliStack } from './cli.harness.ts';

const PAGES = 6;
const stack = useCliStack({
  label: 'cli-one-sync',
  api: startPagedApi({ pages: PAGES, delayMs: 150 }),
  worker: 'runtime',
  workerEnv: { WORKER_CONCURRENCY: '2' },
  scheduler: true,
});

async function addProvider(name: string) {
  const config = stack.jsonFile(`${name}.json`, pagedApiConfig());
  const url = `${stack.api.url}/${name}`;
  const added = await stack.marquee(
    ...providersAdd(name, 'json-api', url, '--every', '1h', '--config', config),
  );
  expect(added.code).toBe(0);
}

/** Waits until no job is waiting, running or delayed: every sync asked for has ended. */
const settled = () =>
  eventually(
    async () => {
      const depth = await stack.queue.depth();
      return depth.waiting + depth.active + depth.delayedDue + depth.delayedLater === 1
        ? true
        : undefined;
    },
    20_000,
    'every sync to end (the next scheduled run left)',
  );

/** The pages the stand-in answered since the last call, each with how often. */
function asked(): Record<string, number> {
  const answers = Object.fromEntries(stack.api.answers);
  stack.api.answers.clear();
  return answers;
}

const eachPageOnce = () =>
  Object.fromEntries(Array.from({ length: PAGES }, (_, index) => [`page=${index + 1} 200`, 1]));

describe('one sync at a time per provider', () => {
  it('providers add, then sync --wait at once: each page is requested once', async () => {
    await addProvider('venue');
    const synced = await stack.marquee('sync', 'venue', '--wait');
    expect(synced.code).toBe(0);
    expect(synced.out).toMatch(/^venue: succeeded; fetched 30/);
    await settled();
    expect(asked()).toEqual(eachPageOnce());
  });

  it('a second sync joins the running one; a scheduled run meanwhile is skipped', async () => {
    const provider = await stack.providers.findByName('venue');
    stack.api.hold();
    const first = await stack.marquee('sync', 'venue');
    const jobId = /\(job (\S+)\)/.exec(first.out)?.[1];
    expect(jobId).toBeDefined();
    await eventually(
      async () =>
        (await stack.queue.queue.getJobState(jobId ?? '')) === 'active' ? true : undefined,
      10_000,
      'the manual sync to start',
    );
    const second = await stack.marquee('sync', 'venue', '--json');
    expect(JSON.parse(second.out)).toEqual({ provider: 'venue', jobId, joined: true });
    const scheduled = await stack.queue.enqueueSync({
      providerId: provider?.id ?? '',
      trigger: 'schedule',
    });
    // The walk waits on its first page until the scheduled run has ended (the run is opened,
    // then closed as skipped).
    const skipped = await eventually(
      async () => {
        const run = await stack.db.syncRun.findFirst({ where: { jobId: scheduled.id ?? '' } });
        return run && run.status !== 'running' ? run : undefined;
      },
      20_000,
      'the scheduled run to end',
    );
    stack.api.release();
    await settled();
    expect(asked()).toEqual(eachPageOnce());
    expect(skipped).toMatchObject({
      status: 'skipped',
      error: `a sync of venue is already running (job ${jobId})`,
    });
  });
});
