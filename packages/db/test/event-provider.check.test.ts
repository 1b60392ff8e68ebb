// events.provider_id without a foreign key (migration 20261207180000): the statement triggers
// that replace it keep what the key guaranteed, against the real database — no event of a
// provider that does not exist, whoever inserts it and however it races a removal; removing a
// provider removes its events; neither id moves.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  createDb,
  EventGroupWriter,
  EventTransaction,
  ProviderRepository,
  type Db,
  type Provider,
} from '@marquee/db';
import { createTestDatabase, eventRecord, eventually, type TestDatabase } from '@marquee/testing';

let db: Db;
let database: TestDatabase;
let repository: ProviderRepository;
const clients: pg.Client[] = [];

beforeAll(async () => {
  database = await createTestDatabase('event_provider');
  db = createDb({ databaseUrl: database.url, maxConnections: 4 });
  repository = new ProviderRepository(db);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.end()));
  await db.$disconnect();
  await database.drop();
});

beforeEach(async () => {
  await db.event.deleteMany({});
});

let created = 0;
const addProvider = () =>
  repository.create({
    name: `provider-${(created += 1)}`,
    kind: 'fever-xml',
    url: 'http://127.0.0.1/feed.xml',
    everySeconds: 60,
    timezone: 'UTC',
  });

async function client(): Promise<pg.Client> {
  const connected = new pg.Client({ connectionString: database.url });
  await connected.connect();
  clients.push(connected);
  return connected;
}

const records = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, index) =>
    eventRecord({ externalKey: `${prefix}${index}`, title: `Show ${prefix}${index}` }),
  );

const stored = (providerId: string) => db.event.count({ where: { providerId } });

/** One event row for `providerId`, as plain SQL (as any writer other than the bulk paths). */
const insertSql = (providerId: string, key: string) =>
  `INSERT INTO events (id, provider_id, external_key, title, start_at, timezone, online,
     ever_online, content_hash, first_seen_at, last_seen_at, updated_at)
   VALUES ${eventValues(providerId, key)}`;
const eventValues = (providerId: string, key: string) =>
  `('${randomUUID()}', '${providerId}', '${key}', 'Show', now(), 'UTC', true, true, 'h', now(), now(), now())`;

/** Resolves once one backend of the database waits for a lock (asked on a connection of its own). */
async function oneWaitingOnLocks(): Promise<void> {
  const asker = await client();
  await eventually(
    async () => {
      const { rows } = await asker.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      return rows[0]?.n === 1 ? true : undefined;
    },
    10_000,
    'one backend waiting for a lock',
  );
}

describe('events of a provider that does not exist', () => {
  it('a COPY straight into events (a first ingest) fails with the foreign key SQLSTATE and stores nothing', async () => {
    const ghost: Provider = { ...(await addProvider()), id: randomUUID() };
    const transaction = await EventTransaction.open(db.pool, ghost);
    await transaction.upsertMany(records('g', 20), new Date());
    await expect(transaction.commit()).rejects.toMatchObject({ code: '23503' });
    expect(await stored(ghost.id)).toBe(0);
  });

  it('one statement naming an existing and a missing provider fails whole', async () => {
    const real = await addProvider();
    const writer = await client();
    await expect(
      writer.query(`${insertSql(real.id, 'a')}, ${eventValues(randomUUID(), 'b')}`),
    ).rejects.toMatchObject({ code: '23503', message: expect.stringContaining('provider') });
    expect(await db.event.count()).toBe(0);
    await writer.query(insertSql(real.id, 'a'));
    expect(await stored(real.id)).toBe(1);
  });

  it('in a group write, the member whose provider is gone fails alone', async () => {
    const [kept, removed] = [await addProvider(), await addProvider()];
    await repository.remove(removed.name);
    const writer = new EventGroupWriter(db.pool);
    const write = (provider: Provider) =>
      writer.write({ provider, events: records('k', 5), seenAt: new Date(), forgetPayload: false });
    const [ok, failed] = await Promise.allSettled([write(kept), write(removed)]);
    expect(ok).toMatchObject({ status: 'fulfilled', value: { written: 5 } });
    expect(failed).toMatchObject({ status: 'rejected', reason: { code: '23503' } });
    expect(await stored(kept.id)).toBe(5);
    expect(await db.event.count()).toBe(5);
  });
});

describe('a removal racing a writer', () => {
  it('a removal after the rows went in waits for the writer to commit, then removes its rows', async () => {
    const provider = await addProvider();
    const writer = await client();
    const remover = await client();
    await writer.query('BEGIN');
    await writer.query(insertSql(provider.id, 'raced'));
    const removal = remover.query('DELETE FROM providers WHERE id = $1', [provider.id]);
    await oneWaitingOnLocks();
    await writer.query('COMMIT');
    await expect(removal).resolves.toMatchObject({ rowCount: 1 });
    expect(await stored(provider.id)).toBe(0);
  });

  it.each([
    ['commits: they fail, and no event outlives its provider', 'COMMIT', 0],
    ['rolls back: they go in', 'ROLLBACK', 1],
  ] as const)(
    'rows written while a removal is uncommitted wait for it; when it %s',
    async (_, end, kept) => {
      const provider = await addProvider();
      const writer = await client();
      const remover = await client();
      await remover.query('BEGIN');
      await remover.query('DELETE FROM providers WHERE id = $1', [provider.id]);
      const write = writer.query(insertSql(provider.id, 'late')).then(
        () => 'stored',
        (error: { code?: string }) => error.code,
      );
      await oneWaitingOnLocks();
      await remover.query(end);
      expect(await write).toBe(kept === 1 ? 'stored' : '23503');
      expect(await stored(provider.id)).toBe(kept);
    },
  );
});

describe('removing providers', () => {
  it("removes their events, leaves the others', and records each removed event in the change feed", async () => {
    const [gone, alsoGone, kept] = [await addProvider(), await addProvider(), await addProvider()];
    const writer = new EventGroupWriter(db.pool);
    for (const provider of [gone, alsoGone, kept]) {
      await writer.write({
        provider,
        events: records('r', 3),
        seenAt: new Date(),
        forgetPayload: false,
      });
    }
    const before = await db.eventChange.count({ where: { kind: 'deleted' } });
    await db.provider.deleteMany({ where: { id: { in: [gone.id, alsoGone.id] } } });
    expect(await stored(gone.id)).toBe(0);
    expect(await stored(alsoGone.id)).toBe(0);
    expect(await stored(kept.id)).toBe(3);
    expect(await db.eventChange.count({ where: { kind: 'deleted' } })).toBe(before + 6);
  });
});

describe('ids that stay put', () => {
  it("an event's provider_id and a provider's id cannot change", async () => {
    const [from, to] = [await addProvider(), await addProvider()];
    const writer = await client();
    await writer.query(insertSql(from.id, 'fixed'));
    await expect(
      writer.query('UPDATE events SET provider_id = $1 WHERE provider_id = $2', [to.id, from.id]),
    ).rejects.toMatchObject({ code: '23503', message: 'events.provider_id cannot change' });
    await expect(
      writer.query('UPDATE providers SET id = $1 WHERE id = $2', [randomUUID(), from.id]),
    ).rejects.toMatchObject({ code: '23503', message: 'providers.id cannot change' });
    // Naming the column with its own value changes nothing and passes.
    await writer.query('UPDATE events SET provider_id = provider_id, title = $1', ['Renamed']);
    expect(await stored(from.id)).toBe(1);
  });
});
