// Bulk-write transactions (COPY into a session stage, merged per chunk) against the real database.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  createDb,
  EventRepository,
  EventTransaction,
  ProviderRepository,
  type Db,
  type EventRecord,
  type Provider,
} from '@marquee/db';
import { createTestDatabase, type TestDatabase } from '@marquee/testing';

let database: TestDatabase;
// One connection: every transaction reuses the same session, hence the same stage table.
let db: Db;
let events: EventRepository;
let provider: Provider;

beforeAll(async () => {
  database = await createTestDatabase('event-batch');
  db = createDb({ databaseUrl: database.url, maxConnections: 1 });
  events = new EventRepository(db);
  provider = await new ProviderRepository(db).create({
    name: 'batch',
    kind: 'fever-xml',
    url: 'http://127.0.0.1/x',
    everySeconds: 60,
    timezone: 'UTC',
  });
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

const record = (key: string, over: Partial<EventRecord> = {}): EventRecord => ({
  externalKey: key,
  title: `Show ${key}`,
  startAt: new Date('2026-06-30T21:00:00Z'),
  endAt: null,
  timezone: 'UTC',
  minPrice: '15.00',
  maxPrice: null,
  currency: 'EUR',
  online: true,
  ...over,
});

const range = (from: number, to: number, over: Partial<EventRecord> = {}) =>
  Array.from({ length: to - from }, (_, index) => record(`k${from + index}`, over));

async function storedKeys(): Promise<string[]> {
  const rows = await db.event.findMany({
    where: { providerId: provider.id },
    select: { externalKey: true },
  });
  return rows.map((row) => row.externalKey).sort();
}

async function clear(): Promise<void> {
  await db.event.deleteMany({ where: { providerId: provider.id } });
}

describe('EventTransaction', () => {
  it('commits batches handed over without waiting, in order, with exact counts', async () => {
    await clear();
    const transaction = await events.begin();
    const seenAt = new Date();
    // Overlapping calls: the second is encoded while the first is written; the third rewrites
    // a row of the first, so it must run after it.
    const results = await Promise.all([
      transaction.upsertMany(provider, range(0, 6_000), seenAt),
      transaction.upsertMany(provider, range(6_000, 7_000), seenAt),
      transaction.upsertMany(provider, [record('k0', { title: 'renamed' })], seenAt),
    ]);
    expect(results.map((result) => result.written)).toEqual([6_000, 1_000, 1]);
    // Not visible outside the transaction before the commit.
    const outside = new pg.Client({ connectionString: database.url });
    await outside.connect();
    const count = async () =>
      (await outside.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]?.n;
    try {
      expect(await count()).toBe(0);
      await transaction.commit();
      expect(await count()).toBe(7_000);
    } finally {
      await outside.end();
    }
    const renamed = await db.event.findFirst({
      where: { providerId: provider.id, externalKey: 'k0' },
    });
    expect(renamed?.title).toBe('renamed');
    await expect(transaction.upsertMany(provider, range(0, 1), seenAt)).rejects.toThrow(
      'already ended',
    );
  });

  it('a value PostgreSQL rejects in a later chunk writes nothing and leaves the stage empty', async () => {
    await clear();
    const bad = [...range(0, 5_000), record('bad', { minPrice: 'twelve' }), ...range(5_000, 5_010)];
    await expect(events.upsertMany(provider, bad, new Date())).rejects.toThrow(/numeric/);
    expect(await storedKeys()).toEqual([]);
    // Same connection, same stage: only this call's rows are merged.
    const { written } = await events.upsertMany(provider, range(0, 3), new Date());
    expect(written).toBe(3);
    expect(await storedKeys()).toEqual(['k0', 'k1', 'k2']);
  });

  it('rolls back everything it wrote', async () => {
    await clear();
    const transaction = await events.begin();
    await transaction.upsertMany(provider, range(0, 10), new Date());
    await transaction.rollback();
    await transaction.rollback();
    expect(await storedKeys()).toEqual([]);
  });

  it('a transaction left idle is ended by PostgreSQL; its rollback hands the connection back', async () => {
    await clear();
    const transaction = await EventTransaction.begin(db.pool, 200);
    try {
      await transaction.upsertMany(provider, range(0, 10), new Date());
      await new Promise((resolve) => setTimeout(resolve, 600));
      await expect(transaction.upsertMany(provider, range(10, 20), new Date())).rejects.toThrow(
        /connection lost: .*idle-in-transaction timeout/,
      );
    } finally {
      await transaction.rollback();
    }
    expect(await storedKeys()).toEqual([]);
    // The pool (one connection) replaced the ended one.
    expect((await events.upsertMany(provider, range(0, 2), new Date())).written).toBe(2);
  });
});
