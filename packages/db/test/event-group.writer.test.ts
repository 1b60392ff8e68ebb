// Group commit of small writes (EventGroupWriter) against the real database: concurrent writes
// share one COPY and one transaction, each settles on its own rows, and a bad one fails alone.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  createDb,
  EventGroupWriter,
  ProviderRepository,
  type Db,
  type Provider,
} from '@marquee/db';
import { createTestDatabase, eventRecord, eventually, type TestDatabase } from '@marquee/testing';

let db: Db;
let database: TestDatabase;
let writer: EventGroupWriter;
let providers: Provider[];
const statements: string[] = [];
// Patched for this file and put back in afterAll; called with `apply`, on its own `this`.
// eslint-disable-next-line @typescript-eslint/unbound-method
const query = pg.Client.prototype.query;

beforeAll(async () => {
  database = await createTestDatabase('event_group');
  db = createDb({ databaseUrl: database.url, maxConnections: 2 });
  writer = new EventGroupWriter(db.pool);
  const repository = new ProviderRepository(db);
  providers = [];
  for (const name of ['one', 'two', 'three']) {
    providers.push(
      await repository.create({
        name,
        kind: 'fever-xml',
        url: `http://127.0.0.1/${name}`,
        everySeconds: 60,
        timezone: 'UTC',
      }),
    );
  }
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    statements.push(String((args[0] as { text?: string }).text ?? args[0]));
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
});

afterAll(async () => {
  pg.Client.prototype.query = query;
  await db.$disconnect();
  await database.drop();
});

beforeEach(async () => {
  await db.event.deleteMany({});
  statements.length = 0;
});

const records = (prefix: string, count: number, over: Parameters<typeof eventRecord>[0] = {}) =>
  Array.from({ length: count }, (_, index) =>
    eventRecord({ externalKey: `${prefix}${index}`, title: `Show ${prefix}${index}`, ...over }),
  );

const provider = (index: number) => providers[index]!;

/** Backends of this database waiting for a lock (asked on `client`, which is not one of them). */
async function waitingOnLocks(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows[0]?.n ?? 0;
}

async function stored(of: Provider): Promise<number> {
  return db.event.count({ where: { providerId: of.id } });
}

describe('EventGroupWriter', () => {
  it('writes concurrent payloads in one COPY and one transaction, each committed when it settles', async () => {
    const seenAt = new Date();
    const outside = new pg.Client({ connectionString: database.url });
    await outside.connect();
    try {
      const visible = async (of: Provider) =>
        (
          await outside.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM events WHERE provider_id = $1',
            [of.id],
          )
        ).rows[0]?.n;
      const settled = await Promise.all(
        [0, 1, 2].map(async (index) => {
          const result = await writer.write({
            provider: provider(index),
            events: records(`p${index}-`, 10 * (index + 1)),
            seenAt,
            forgetPayload: false,
          });
          return { ...result, visible: await visible(provider(index)) };
        }),
      );
      expect(settled).toEqual([
        { written: 10, visible: 10 },
        { written: 20, visible: 20 },
        { written: 30, visible: 30 },
      ]);
    } finally {
      await outside.end();
    }
    expect(statements.filter((text) => text.startsWith('COPY'))).toHaveLength(1);
    expect(statements.filter((text) => text.startsWith('BEGIN'))).toHaveLength(1);
    const row = await db.event.findFirst({ where: { providerId: provider(1).id } });
    expect(row).toMatchObject({ firstSeenAt: seenAt, lastSeenAt: seenAt, everOnline: true });

    // The same payloads again write nothing; a changed event is rewritten.
    const again = await Promise.all([
      writer.write({
        provider: provider(0),
        events: records('p0-', 10),
        seenAt,
        forgetPayload: false,
      }),
      writer.write({
        provider: provider(1),
        events: [...records('p1-', 19), eventRecord({ externalKey: 'p1-19', title: 'renamed' })],
        seenAt,
        forgetPayload: false,
      }),
    ]);
    expect(again).toEqual([{ written: 0 }, { written: 1 }]);
  });

  it('inserts the rows of members without stored events as they are, and merges the others', async () => {
    const seenAt = new Date();
    await writer.write({
      provider: provider(0),
      events: records('m', 3),
      seenAt,
      forgetPayload: false,
    });
    statements.length = 0;
    const written = await Promise.all([
      // Two stored rows unchanged, one renamed, one new: the merge writes two.
      writer.write({
        provider: provider(0),
        events: [
          ...records('m', 2),
          eventRecord({ externalKey: 'm2', title: 'renamed' }),
          ...records('n', 1),
        ],
        seenAt,
        forgetPayload: false,
      }),
      writer.write({
        provider: provider(1),
        events: records('f', 4),
        seenAt,
        forgetPayload: false,
      }),
    ]);
    expect(written).toEqual([{ written: 2 }, { written: 4 }]);
    expect([await stored(provider(0)), await stored(provider(1))]).toEqual([4, 4]);
    const transaction = statements.filter((text) => text.startsWith('BEGIN'));
    expect(transaction).toHaveLength(1);
    // The first ingest is a plain INSERT: no ON CONFLICT arbitration for its rows.
    const insert = transaction[0]?.split(';\n').find((text) => text.includes('WITH inserted'));
    expect(insert).toMatch(/INSERT INTO events \([^)]*\)\s*SELECT .* FROM event_stage WHERE/s);
    expect(insert).toMatch(/NOT EXISTS/);
    expect(insert).not.toMatch(/ON CONFLICT/);
  });

  it('a first ingest racing another session for the same key fails its group, and is merged alone', async () => {
    const seenAt = new Date();
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      // Another session inserts one of provider three's keys and holds its transaction open: the
      // group's plain insert waits on the key, then fails on it once that session commits.
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO events (id, provider_id, external_key, title, start_at, timezone, online,
           ever_online, content_hash) VALUES (gen_random_uuid(), $1, 'r0', 'theirs', now(), 'UTC',
           true, true, 'theirs')`,
        [provider(2).id],
      );
      const writes = Promise.all([
        writer.write({
          provider: provider(1),
          events: records('q', 2),
          seenAt,
          forgetPayload: false,
        }),
        writer.write({
          provider: provider(2),
          events: records('r', 3),
          seenAt,
          forgetPayload: false,
        }),
      ]);
      await eventually(
        async () => ((await waitingOnLocks(other)) > 0 ? true : undefined),
        10_000,
        'the group to wait on the key',
      );
      await other.query('COMMIT');
      // Rewritten one by one: provider three has a stored row now, so its write merges into it.
      expect(await writes).toEqual([{ written: 2 }, { written: 3 }]);
    } finally {
      await other.end();
    }
    // The group's transaction, then each member's own (the other session's BEGIN is not one).
    expect(statements.filter((text) => text.startsWith('BEGIN;'))).toHaveLength(3);
    const rows = await db.event.findMany({
      where: { providerId: provider(2).id },
      orderBy: { externalKey: 'asc' },
    });
    expect(rows.map((row) => [row.externalKey, row.title])).toEqual([
      ['r0', 'Show r0'],
      ['r1', 'Show r1'],
      ['r2', 'Show r2'],
    ]);
  });

  it('a payload PostgreSQL rejects fails alone; the others of its group commit, the stage is left empty', async () => {
    const seenAt = new Date();
    const writes = [
      writer.write({
        provider: provider(0),
        events: records('a', 5),
        seenAt,
        forgetPayload: false,
      }),
      writer.write({
        provider: provider(1),
        events: [...records('b', 5), eventRecord({ externalKey: 'bad', minPrice: 'twelve' })],
        seenAt,
        forgetPayload: false,
      }),
      writer.write({
        provider: provider(2),
        events: records('c', 7),
        seenAt,
        forgetPayload: false,
      }),
    ];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/numeric/);
    expect([
      await stored(provider(0)),
      await stored(provider(1)),
      await stored(provider(2)),
    ]).toEqual([5, 0, 7]);
    // Nothing of the failed groups is left staged: the next write stores its own rows only.
    const next = await writer.write({
      provider: provider(1),
      events: records('b', 2),
      seenAt,
      forgetPayload: false,
    });
    expect(next).toEqual({ written: 2 });
    expect(await stored(provider(1))).toBe(2);
  });

  it('forgets the applied payload in the transaction of the rows, not when it rolls back', async () => {
    const of = provider(2);
    const state = {
      etag: '"v1"',
      lastModified: null,
      contentHash: 'hash',
      parsedCount: 3,
      seenMarkedAt: new Date(),
    };
    await db.providerFetchState.upsert({
      where: { providerId: of.id },
      create: { providerId: of.id, ...state },
      update: state,
    });
    const bad = [eventRecord({ externalKey: 'x', minPrice: 'twelve' })];
    await expect(
      writer.write({ provider: of, events: bad, seenAt: new Date(), forgetPayload: true }),
    ).rejects.toThrow(/numeric/);
    expect(await db.providerFetchState.findUnique({ where: { providerId: of.id } })).toMatchObject({
      contentHash: 'hash',
      etag: '"v1"',
    });
    await writer.write({
      provider: of,
      events: records('x', 3),
      seenAt: new Date(),
      forgetPayload: true,
    });
    expect(await db.providerFetchState.findUnique({ where: { providerId: of.id } })).toMatchObject({
      contentHash: null,
      etag: null,
      lastModified: null,
      seenMarkedAt: null,
      parsedCount: 3,
    });
  });
});
