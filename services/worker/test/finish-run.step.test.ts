// The finish step against real PostgreSQL and Redis: what each way a sync ends records.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SearchCache } from '@marquee/cache';
import type { Provider } from '@marquee/db';
import { feverXml } from '@marquee/providers';
import { feverFeed } from '@marquee/testing';
import type { FetchedFacts } from '../src/fetch.step.ts';
import { finishRun, finishSkipped } from '../src/finish-run.step.ts';
import { collectKeys, writeStream, type PayloadStream } from '../src/streamed.writer.ts';
import type { SyncContext } from '../src/sync.context.ts';
import { startStepHarness, type StepHarness } from './step.harness.ts';

let harness: StepHarness;
let cache: SearchCache;
const t0 = new Date('2030-01-01T00:00:00Z');
const t2 = new Date('2030-01-01T02:00:00Z');
const write = { action: 'write' } as const;

beforeAll(async () => {
  harness = await startStepHarness('finish_run');
  cache = new SearchCache({ redis: harness.redis, prefix: harness.prefix, ttlSeconds: 60 });
});
afterAll(() => harness.close());

const facts = (contentHash: string): FetchedFacts => ({
  form: 'document',
  resumed: false,
  truncated: false,
  notModified: false,
  contentHash,
  etag: `"${contentHash}"`,
  lastModified: null,
});

const streamOf =
  (body: Buffer): PayloadStream =>
  (sink) =>
    feverXml.ingestStream(
      {
        url: 'http://feed.test/feed.xml',
        config: {},
        timezone: 'UTC',
        fetch: (url) => Promise.resolve({ status: 200, body, headers: {}, url }),
      },
      sink,
    );

/** A sync of `provider` at `at` that parsed and wrote `body`. */
async function written(provider: Provider, at: Date, body: Buffer) {
  const sync = await harness.begin(provider);
  sync.seenAt = at;
  const result = await writeStream(streamOf(body), {
    events: harness.runtime.deps.events,
    provider,
    seenAt: at,
    beforeFirstWrite: () => Promise.resolve(),
    onBatch: () => undefined,
  });
  return { sync, result };
}

const runOf = (sync: SyncContext) => harness.db.syncRun.findUnique({ where: { id: sync.runId } });
const stateOf = (provider: Provider) =>
  harness.db.providerFetchState.findUnique({ where: { providerId: provider.id } });
const lastSeen = async (provider: Provider) =>
  new Set(
    (await harness.db.event.findMany({ where: { providerId: provider.id } })).map((event) =>
      event.lastSeenAt.toISOString(),
    ),
  );

describe('finishRun of a written payload', () => {
  let provider: Provider;

  beforeAll(async () => {
    provider = await harness.addProvider({ name: 'written' });
  });

  it('applied: the run counts it, the payload becomes the reference, the cache version moves', async () => {
    const version = await cache.version();
    const { sync, result } = await written(provider, t0, feverFeed(10));
    const summary = await finishRun(harness.runtime.deps, sync, write, facts('A'), result);
    expect(summary).toMatchObject({ parsed: 10, upserted: 10, unchanged: 0, changed: true });
    expect(await runOf(sync)).toMatchObject({ status: 'succeeded', flag: null, upserted: 10 });
    expect(await stateOf(provider)).toMatchObject({
      contentHash: 'A',
      etag: '"A"',
      parsedCount: 10,
      seenMarkedAt: t0,
    });
    expect(await cache.version()).toBe(version + 1);
  });

  it('applied with rows left unwritten: those are marked seen, the cache version stays', async () => {
    const version = await cache.version();
    const { sync, result } = await written(provider, t2, feverFeed(10));
    expect(result.written).toBe(0);
    await finishRun(harness.runtime.deps, sync, write, facts('A2'), result);
    expect(await runOf(sync)).toMatchObject({ flag: null, upserted: 0, unchanged: 10 });
    expect(await lastSeen(provider)).toEqual(new Set([t2.toISOString()]));
    expect(await cache.version()).toBe(version);
    expect(await stateOf(provider)).toMatchObject({ contentHash: 'A2', seenMarkedAt: t2 });
  });

  it('shrunk: written, but "last seen" not applied and the reference kept', async () => {
    const t3 = new Date('2030-01-01T04:00:00Z');
    const body = Buffer.from(feverFeed(4).toString().replace('title="Event 1"', 'title="Moved"'));
    const { sync, result } = await written(provider, t3, body);
    const summary = await finishRun(harness.runtime.deps, sync, write, facts('B'), result);
    expect(summary).toMatchObject({ parsed: 4, upserted: 1, changed: true });
    expect(await runOf(sync)).toMatchObject({ flag: 'shrunk', upserted: 1, unchanged: 3 });
    expect(await stateOf(provider)).toMatchObject({ contentHash: 'A2', parsedCount: 10 });
    // Only the rewritten row carries t3.
    expect(await lastSeen(provider)).toEqual(new Set([t2.toISOString(), t3.toISOString()]));
  });

  it('empty: nothing where there were events: flagged, nothing recorded as applied', async () => {
    const { sync, result } = await written(provider, t2, feverFeed(0));
    expect(result.written).toBe(0);
    const summary = await finishRun(harness.runtime.deps, sync, write, facts('C'), result);
    expect(summary).toMatchObject({ parsed: 0, upserted: 0, changed: false });
    expect(await runOf(sync)).toMatchObject({ flag: 'empty' });
    expect(await stateOf(provider)).toMatchObject({ contentHash: 'A2', parsedCount: 10 });
  });
});

describe('finishMarkedSeen and finishSkipped', () => {
  /** A provider `name` synced at t0 (`count` events, content `hash`), and its sync at t2 begun. */
  async function secondSync(name: string, count: number, hash: string) {
    const provider = await harness.addProvider({ name });
    const first = await written(provider, t0, feverFeed(count));
    await finishRun(harness.runtime.deps, first.sync, write, facts(hash), first.result);
    const sync = await harness.begin(provider);
    sync.seenAt = t2;
    return { provider, sync };
  }

  it('unchanged and parsed: keys marked seen, the payload re-recorded with its new mark', async () => {
    const { provider, sync } = await secondSync('seen', 5, 'S');
    const result = await collectKeys(streamOf(feverFeed(5)), () => undefined);
    const summary = await finishRun(
      harness.runtime.deps,
      sync,
      { action: 'mark-seen' },
      facts('S'),
      result,
    );
    expect(summary).toMatchObject({
      fetched: 5,
      parsed: 5,
      upserted: 0,
      unchanged: 5,
      changed: false,
    });
    expect(await runOf(sync)).toMatchObject({ status: 'succeeded', flag: 'unchanged', parsed: 5 });
    expect(await lastSeen(provider)).toEqual(new Set([t2.toISOString()]));
    expect(await stateOf(provider)).toMatchObject({ contentHash: 'S', seenMarkedAt: t2 });
  });

  it('unchanged, not parsed: the applied count is the unchanged count; nothing else moves', async () => {
    const { provider, sync } = await secondSync('skipped', 6, 'K');
    const summary = await finishSkipped(harness.runtime.deps, sync, 'same-content');
    expect(summary).toMatchObject({ fetched: 0, parsed: 0, unchanged: 6, changed: false });
    expect(await runOf(sync)).toMatchObject({ flag: 'unchanged', unchanged: 6, parsed: 0 });
    expect(await lastSeen(provider)).toEqual(new Set([t0.toISOString()]));
    expect(await stateOf(provider)).toMatchObject({ contentHash: 'K', seenMarkedAt: t0 });
  });
});
