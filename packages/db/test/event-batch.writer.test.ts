// Bulk-write transactions (COPY into a session stage, merged per chunk) against the real database.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createDb, EventRepository, EventTransaction, type Provider } from '@marquee/db';
import type { EventRecord } from '@marquee/event-model';
import { databaseStackFor, eventRecord, feverProvider } from '@marquee/testing';

// One connection: every transaction reuses the same session, hence the same stage table.
const stack = databaseStackFor('event-batch', { beforeAll, afterAll }, { maxConnections: 1 });
let provider: Provider;

beforeAll(async () => {
  provider = await stack.providers.create(
    feverProvider('batch', 'http://127.0.0.1/x', { everySeconds: 60 }),
  );
});

const record = (key: string, over: Partial<EventRecord> = {}): EventRecord =>
  eventRecord({
    externalKey: key,
    title: `Show ${key}`,
    minPrice: '15.00',
    currency: 'EUR',
    ...over,
  });

const range = (from: number, to: number, over: Partial<EventRecord> = {}) =>
  Array.from({ length: to - from }, (_, index) => record(`k${from + index}`, over));

async function storedKeys(): Promise<string[]> {
  const rows = await stack.db.event.findMany({
    where: { providerId: provider.id, externalKey: { not: SEED } },
    select: { externalKey: true },
  });
  return rows.map((row) => row.externalKey).sort();
}

// A stored event that makes the provider's writes merge rather than copy straight in.
const SEED = 'seed';

describe.each([
  ['a first ingest (rows copied straight into events)', false],
  ['a provider with stored events (rows merged through the stage)', true],
])('EventTransaction, %s', (_, seeded) => {
  async function reset(): Promise<void> {
    await stack.db.event.deleteMany({ where: { providerId: provider.id } });
    if (seeded) await stack.events.upsertMany(provider, [record(SEED)], new Date());
  }

  it('commits batches handed over without waiting, in order, with exact counts', async () => {
    await reset();
    const transaction = await stack.events.openTransaction(provider);
    expect(transaction.writesDirectly).toBe(!seeded);
    const seenAt = new Date();
    // Overlapping calls: the second is encoded while the first is written; the third rewrites
    // a row of the first (a key repeated across batches: merged even in a first ingest), so it
    // must run after it.
    const results = await Promise.all([
      transaction.upsertMany(range(0, 6_000), seenAt),
      transaction.upsertMany(range(6_000, 7_000), seenAt),
      transaction.upsertMany([record('k0', { title: 'renamed' })], seenAt),
    ]);
    expect(results.map((result) => result.written)).toEqual([6_000, 1_000, 1]);
    // Not visible outside the transaction before the commit.
    const outside = new pg.Client({ connectionString: stack.database.url });
    await outside.connect();
    const count = async () =>
      (
        await outside.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM events WHERE external_key <> $1',
          [SEED],
        )
      ).rows[0]?.n;
    try {
      expect(await count()).toBe(0);
      await transaction.commit();
      expect(await count()).toBe(7_000);
    } finally {
      await outside.end();
    }
    const stored = await stack.db.event.findMany({
      where: { providerId: provider.id, externalKey: { in: ['k0', 'k1'] } },
      orderBy: { externalKey: 'asc' },
    });
    expect(stored.map((row) => [row.title, row.everOnline, row.firstSeenAt])).toEqual([
      ['renamed', true, seenAt],
      ['Show k1', true, seenAt],
    ]);
    await expect(transaction.upsertMany(range(0, 1), seenAt)).rejects.toThrow('already ended');
  });

  it('a value PostgreSQL rejects in a later chunk writes nothing and leaves the stage empty', async () => {
    await reset();
    const bad = [...range(0, 5_000), record('bad', { minPrice: 'twelve' }), ...range(5_000, 5_010)];
    await expect(stack.events.upsertMany(provider, bad, new Date())).rejects.toThrow(/numeric/);
    expect(await storedKeys()).toEqual([]);
    // Same connection, same stage: only this call's rows are written.
    const { written } = await stack.events.upsertMany(provider, range(0, 3), new Date());
    expect(written).toBe(3);
    expect(await storedKeys()).toEqual(['k0', 'k1', 'k2']);
  });

  it('rolls back everything it wrote', async () => {
    await reset();
    const transaction = await stack.events.openTransaction(provider);
    await transaction.upsertMany(range(0, 10), new Date());
    await transaction.rollback();
    await transaction.rollback();
    expect(await storedKeys()).toEqual([]);
  });

  it('a transaction left idle is ended by PostgreSQL; its rollback hands the connection back', async () => {
    await reset();
    // Idle between statements: only the merge way has such gaps (a first ingest's COPY stays
    // open, which PostgreSQL does not count as idle; the deadline below covers it).
    const transaction = await EventTransaction.open(stack.db.pool, provider, {
      idleMs: 200,
      maxMs: 60_000,
    });
    try {
      await transaction.upsertMany(range(0, 10), new Date());
      await new Promise((resolve) => setTimeout(resolve, 600));
      const late = transaction.upsertMany(range(10, 20), new Date());
      if (seeded) {
        await expect(late).rejects.toThrow(/connection lost: .*idle-in-transaction timeout/);
      } else {
        await late;
        await expect(transaction.commit()).resolves.toBeUndefined();
      }
    } finally {
      await transaction.rollback();
    }
    expect(await storedKeys()).toEqual(
      seeded
        ? []
        : range(0, 20)
            .map((e) => e.externalKey)
            .sort(),
    );
    // The pool (one connection) replaced an ended one.
    expect((await stack.events.upsertMany(provider, range(20, 22), new Date())).written).toBe(2);
  });

  it('a transaction open past its deadline is aborted: it writes nothing and soon holds no lock', async () => {
    await reset();
    // Room for the first write to end before the deadline, even on a loaded machine; idle for
    // longer than that, so the deadline, not the idle timeout, is what ends it.
    const maxMs = 3_000;
    const openedAt = Date.now();
    const transaction = await EventTransaction.open(stack.db.pool, provider, {
      idleMs: 4_000,
      maxMs,
    });
    const other = createDb({ databaseUrl: stack.database.url, maxConnections: 1 });
    try {
      // More rows than PostgreSQL buffers in a COPY before inserting them (1,000).
      await transaction.upsertMany(range(0, 5_000), new Date());
      // Nobody rolls it back, yet the same keys can be written: at the deadline the COPY is
      // failed, and PostgreSQL aborts the transaction and releases its locks (the session stays
      // "idle in transaction (aborted)"). Until then this write waits for the uncommitted rows'
      // locks (with the COPY left open, it would wait for ever).
      expect(
        (await new EventRepository(other).upsertMany(provider, range(0, 3), new Date())).written,
      ).toBe(3);
      // The deadline is this process's own timer, which nothing outside it shows: the write above
      // mostly waited for it already; if it won the race to the rows, wait for the timer.
      await sleep(Math.max(0, openedAt + maxMs + 50 - Date.now()));
      await expect(transaction.upsertMany(range(5_000, 5_010), new Date())).rejects.toThrow(
        /still open after 3000 ms; aborted/,
      );
      await expect(transaction.commit()).rejects.toThrow(/aborted/);
    } finally {
      await transaction.rollback();
      await other.$disconnect();
    }
    expect(await storedKeys()).toEqual(['k0', 'k1', 'k2']);
  });
});

describe('EventTransaction, two first ingests of one provider at once', () => {
  it('the second fails on the unique key once the first commits; its retry merges', async () => {
    await stack.db.event.deleteMany({ where: { providerId: provider.id } });
    const other = createDb({ databaseUrl: stack.database.url, maxConnections: 1 });
    try {
      const first = await stack.events.openTransaction(provider);
      const second = await new EventRepository(other).openTransaction(provider);
      expect([first.writesDirectly, second.writesDirectly]).toEqual([true, true]);
      await first.upsertMany(range(0, 3), new Date());
      // PostgreSQL holds the second one's rows on the first one's uncommitted keys; the
      // conflict surfaces at its commit (rows sent into an open COPY are checked as they go).
      await second.upsertMany(range(2, 5), new Date());
      await first.commit();
      await expect(second.commit()).rejects.toMatchObject({ code: '23505' });
      await second.rollback();
      expect(await storedKeys()).toEqual(['k0', 'k1', 'k2']);
      const retry = await new EventRepository(other).upsertMany(
        provider,
        range(2, 5, { title: 'retried' }),
        new Date(),
      );
      expect(retry.written).toBe(3);
      expect(await storedKeys()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
    } finally {
      await other.$disconnect();
    }
  });
});

describe('EventRepository with bulkTransactions', () => {
  it('holds its transactions to the slots, waiting without a connection; any end frees a slot', async () => {
    const events = new EventRepository(stack.db, { bulkTransactions: 1 });
    const inUse = () => events.transactionGate?.inUse;
    // A failed open (the query fails, the connection is dropped) and a failed write.
    await expect(events.openTransaction({ id: 'not-a-uuid', name: 'x' })).rejects.toThrow(/uuid/);
    expect(inUse()).toBe(0);
    const bad = [record('bad', { minPrice: 'twelve' })];
    await expect(events.upsertMany(provider, bad, new Date())).rejects.toThrow(/numeric/);
    expect(inUse()).toBe(0);

    const first = await events.openTransaction(provider);
    let second: EventTransaction | undefined;
    const opening = events.openTransaction(provider).then((opened) => (second = opened));
    for (let turn = 0; turn < 5; turn++) await Promise.resolve();
    // Waiting for the slot, not in the pool's queue for its one connection.
    expect({ second, inUse: inUse(), waiting: stack.db.pool.waitingCount }).toEqual({
      second: undefined,
      inUse: 1,
      waiting: 0,
    });
    await first.rollback();
    await opening;
    expect(inUse()).toBe(1);
    await second?.commit();
    expect(inUse()).toBe(0);
  });
});
