import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createDb,
  FetchStateRepository,
  ProviderRepository,
  SyncRunRepository,
  type Db,
} from '@marquee/db';
import { createTestDatabase, type TestDatabase } from '@marquee/testing';

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase('sync-run-repo');
  db = createDb({ databaseUrl: database.url });
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

function addProvider(name: string) {
  return new ProviderRepository(db).create({
    name,
    kind: 'fever-xml',
    url: `http://127.0.0.1/${name}`,
    everySeconds: 60,
    timezone: 'UTC',
  });
}

describe('SyncRunRepository.openRun', () => {
  it('closes the same job’s runs left running, starts a run and reads the fetch state', async () => {
    const provider = await addProvider('begin');
    const runs = new SyncRunRepository(db);
    const states = new FetchStateRepository(db);
    const killed = await runs.start(provider.id, 'schedule', 'job-1');
    const otherJob = await runs.start(provider.id, 'schedule', 'job-2');

    const opened = (await runs.openRun(provider.id, 'schedule', 'job-1'))!;
    expect(opened).toMatchObject({ interrupted: 1, fetchState: null });
    // The provider comes with the run, as the ORM reads it (a column left out fails here).
    expect(opened.provider).toEqual(await new ProviderRepository(db).findById(provider.id));
    const run = await db.syncRun.findUniqueOrThrow({ where: { id: opened.runId } });
    expect(run).toMatchObject({ jobId: 'job-1', trigger: 'schedule', status: 'running' });
    expect(await db.syncRun.findUniqueOrThrow({ where: { id: killed.id } })).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^interrupted/) as unknown as string,
    });
    expect(await db.syncRun.findUniqueOrThrow({ where: { id: otherJob.id } })).toMatchObject({
      status: 'running',
    });

    await states.save(provider.id, {
      etag: '"v1"',
      lastModified: null,
      contentHash: 'abc',
      parsedCount: 7,
      seenMarkedAt: new Date('2030-01-01T00:00:00Z'),
    });
    // Without a job id nothing is closed (the run opened above stays running).
    const manual = (await runs.openRun(provider.id, 'manual', undefined))!;
    expect(manual.interrupted).toBe(0);
    expect(manual.fetchState).toEqual(await states.find(provider.id));
    expect(manual.fetchState).toMatchObject({
      etag: '"v1"',
      contentHash: 'abc',
      parsedCount: 7,
      seenMarkedAt: new Date('2030-01-01T00:00:00Z'),
    });
    expect(await db.syncRun.findUniqueOrThrow({ where: { id: opened.runId } })).toMatchObject({
      status: 'running',
    });
  });
});

describe('SyncRunRepository.openRun of a provider that no longer exists', () => {
  it('answers null and writes nothing', async () => {
    const runs = new SyncRunRepository(db);
    const missing = '00000000-0000-4000-8000-000000000000';
    expect(await runs.openRun(missing, 'schedule', 'job-gone')).toBeNull();
    expect(await db.syncRun.count({ where: { jobId: 'job-gone' } })).toBe(0);
  });
});

/** Runs `use` counting the statements sent through the pool (the repository's batched ones). */
async function countingPoolQueries<T>(use: () => Promise<T>): Promise<{ result: T; sent: number }> {
  const query = db.pool.query.bind(db.pool);
  let sent = 0;
  db.pool.query = ((...args: Parameters<typeof query>) => {
    sent += 1;
    return query(...args);
  }) as typeof query;
  try {
    return { result: await use(), sent };
  } finally {
    db.pool.query = query;
  }
}

describe('SyncRunRepository.openRun of syncs beginning together', () => {
  it('opens their runs in one statement, each with its own provider; a missing one answers null', async () => {
    const runs = new SyncRunRepository(db);
    const providers = [await addProvider('begin-1'), await addProvider('begin-2')];
    const left = await runs.start(providers[1]!.id, 'schedule', 'job-b2');
    const { result, sent } = await countingPoolQueries(() =>
      Promise.all([
        runs.openRun(providers[0]!.id, 'schedule', 'job-b1'),
        runs.openRun(providers[1]!.id, 'manual', 'job-b2'),
        runs.openRun('00000000-0000-4000-8000-000000000001', 'schedule', 'job-b3'),
      ]),
    );
    expect(sent).toBe(1);
    expect(result.map((opened) => opened && [opened.provider.name, opened.interrupted])).toEqual([
      ['begin-1', 0],
      ['begin-2', 1],
      null,
    ]);
    expect(await db.syncRun.findUniqueOrThrow({ where: { id: left.id } })).toMatchObject({
      status: 'failed',
    });
    expect(await db.syncRun.findUniqueOrThrow({ where: { id: result[1]!.runId } })).toMatchObject({
      status: 'running',
      trigger: 'manual',
      jobId: 'job-b2',
      providerId: providers[1]!.id,
    });
  });
});

describe('SyncRunRepository.succeed', () => {
  it('ends the run with its counts, and with `applied` records the fetch state in the same statement', async () => {
    const provider = await addProvider('succeed');
    const runs = new SyncRunRepository(db);
    const states = new FetchStateRepository(db);
    const counts = { fetched: 3, parsed: 3, upserted: 2, unchanged: 1, rejected: 1 };
    const rejects = [{ key: 'k"1', reason: 'no title' }];
    const first = (await runs.openRun(provider.id, 'schedule', 'job-a'))!;
    await runs.succeed(first.runId, counts, rejects, 'shrunk');
    expect(await db.syncRun.findUniqueOrThrow({ where: { id: first.runId } })).toMatchObject({
      ...counts,
      status: 'succeeded',
      flag: 'shrunk',
      rejects,
    });
    expect(await states.find(provider.id)).toBeNull();

    const state = {
      etag: '"v2"',
      lastModified: null,
      contentHash: 'def',
      parsedCount: 3,
      seenMarkedAt: new Date('2030-01-01T00:00:00Z'),
    };
    for (const job of ['job-b', 'job-c']) {
      const { runId } = (await runs.openRun(provider.id, 'schedule', job))!;
      await runs.succeed(runId, counts, [], undefined, false, undefined, {
        providerId: provider.id,
        state,
      });
      expect(await db.syncRun.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({
        status: 'succeeded',
        flag: null,
        rejects: [],
      });
      expect(await states.find(provider.id)).toMatchObject(state);
    }
    await expect(runs.succeed(provider.id, counts, [])).rejects.toThrow('not found');
  });

  it('runs ending together share one statement; a run not found fails alone', async () => {
    const runs = new SyncRunRepository(db);
    const opened: NonNullable<Awaited<ReturnType<SyncRunRepository['openRun']>>>[] = [];
    for (const name of ['together-1', 'together-2', 'together-3']) {
      const provider = await addProvider(name);
      opened.push((await runs.openRun(provider.id, 'schedule', name))!);
    }
    const counts = (upserted: number) => ({
      fetched: 1,
      parsed: upserted,
      upserted,
      unchanged: 0,
      rejected: 0,
    });
    const { result: outcomes, sent } = await countingPoolQueries(() =>
      Promise.allSettled([
        ...opened.map(({ runId, provider }, index) =>
          runs.succeed(runId, counts(index), [], undefined, false, undefined, {
            providerId: provider.id,
            state: {
              etag: null,
              lastModified: null,
              contentHash: `hash-${index}`,
              parsedCount: index,
              seenMarkedAt: new Date(),
            },
          }),
        ),
        runs.succeed(opened[0]!.provider.id, counts(0), []),
      ]),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'rejected',
    ]);
    // One statement for the four: the run it did not find fails its own caller only.
    expect(sent).toBe(1);
    for (const [index, { runId, provider }] of opened.entries()) {
      expect(await db.syncRun.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({
        status: 'succeeded',
        upserted: index,
      });
      expect(await new FetchStateRepository(db).find(provider.id)).toMatchObject({
        contentHash: `hash-${index}`,
        parsedCount: index,
      });
    }
  });
});

describe('SyncRunRepository.skip', () => {
  it('ends a run as skipped with its reason, leaving its counts alone', async () => {
    const provider = await addProvider('skip');
    const runs = new SyncRunRepository(db);
    const { runId } = (await runs.openRun(provider.id, 'schedule', 'job-skip'))!;
    const reason = 'circuit breaker open (provider skip); next probe at 2030-01-01T00:01:00Z';
    await runs.skip(runId, reason);
    const run = await db.syncRun.findUniqueOrThrow({ where: { id: runId } });
    expect(run).toMatchObject({ status: 'skipped', error: reason, fetched: 0, flag: null });
    expect(run.finishedAt).toBeInstanceOf(Date);
  });
});
