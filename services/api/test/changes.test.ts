// GET /v1/changes on real PostgreSQL: the kinds the triggers write, nothing for an unchanged
// re-ingest, the cursor's errors (400, 410), and exactness while ingests commit concurrently.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ChangeRepository, type EventTransaction, type Provider } from '@marquee/db';
import type { EventRecord } from '@marquee/event-model';
import { createProvider, json, record, startApi, type ApiFixture } from './api.fixture.ts';

interface ChangeItem {
  cursor: string;
  kind: string;
  event_id: string;
  event: { id: string; title: string; status: string | null } | null;
}
interface ChangesPage {
  changes: ChangeItem[];
  next_cursor: string;
  has_more: boolean;
}

let api: ApiFixture;
let key: string;

beforeAll(async () => {
  api = await startApi('changes', {
    access: { publicQuotaPerMinute: 100_000, keyQuotaPerMinute: 1_000_000 },
  });
  ({ key } = await api.keys.create('feed reader', null));
});

afterAll(async () => {
  await api.close();
});

async function page(after: string | undefined, limit: number): Promise<ChangesPage> {
  const query = new URLSearchParams({ limit: String(limit), ...(after ? { after } : {}) });
  const response = await api.get(`/v1/changes?${query.toString()}`, { 'X-API-Key': key });
  const body = await json<ChangesPage>(response);
  if (response.status !== 200) throw new Error(`${response.status} ${JSON.stringify(body)}`);
  return body.data!;
}

/** Every readable change after `after`, `limit` per page. */
async function readAll(after: string | undefined, limit: number) {
  const items: ChangeItem[] = [];
  let cursor = after;
  for (;;) {
    const next = await page(cursor, limit);
    items.push(...next.changes);
    cursor = next.next_cursor;
    if (!next.has_more) return { items, cursor };
  }
}

/**
 * Reads after `after` until `count` changes arrived. A change becomes readable once every older
 * write transaction of the PostgreSQL server ended (docs/changes.md): on a shared server, not
 * at once.
 */
async function readCount(after: string | undefined, limit: number, count: number) {
  const items: ChangeItem[] = [];
  let cursor = after;
  const deadline = Date.now() + 30_000;
  while (items.length < count && Date.now() < deadline) {
    const next = await readAll(cursor, limit);
    items.push(...next.items);
    cursor = next.cursor;
    if (items.length < count) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { items, cursor };
}

async function storedChanges(): Promise<number> {
  const rows = await api.db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM event_changes`;
  return Number(rows[0]?.n);
}

const write = (provider: Provider, events: EventRecord[]) =>
  api.events.upsertMany(provider, events, new Date());

describe('the change feed', () => {
  it('records created, updated, cancelled, merged and deleted; nothing for unchanged', async () => {
    const start = (await readCount(undefined, 100, await storedChanges())).cursor;
    const a = await createProvider(api, 'kinds-a');
    const b = await createProvider(api, 'kinds-b');
    const venue = {
      name: 'Sala Apolo',
      city: 'Barcelona',
      address: null,
      country: null,
      lat: null,
      lon: null,
    };
    const startsAt = new Date('2027-01-05T20:00:00Z');
    const base = [
      record({ externalKey: 'k1', title: 'Night', startsAt, venue }),
      record({ externalKey: 'k2', title: 'Day' }),
      record({ externalKey: 'off', title: 'Offline', online: false }),
    ];
    await write(a, base);
    const created = await readCount(start, 2, 2);
    expect(created.items.map((item) => [item.kind, item.event?.title])).toEqual([
      ['created', 'Night'],
      ['created', 'Day'],
    ]);

    // Unchanged re-ingest and a "last seen" mark: no change (none before the next ones below).
    await write(a, base);
    await api.events.markSeen(a.id, ['k1', 'k2'], new Date(Date.now() + 86_400_000));

    await write(a, [{ ...base[1]!, minPrice: '9.00' }]);
    await write(a, [{ ...base[1]!, minPrice: '9.00', status: 'cancelled' }]);
    // Another provider's row of the same real event: the first one's sources change.
    await write(b, [record({ externalKey: 'x', title: 'Night', startsAt, venue })]);
    await api.db.provider.delete({ where: { id: b.id } });
    const later = await readCount(created.cursor, 2, 6);
    const k1 = later.items.find((item) => item.kind === 'merged')?.event_id;
    expect(later.items.map((item) => item.kind)).toEqual([
      'updated',
      'cancelled',
      'created',
      'merged',
      'deleted',
      'merged',
    ]);
    expect(later.items.filter((item) => item.kind === 'merged').map((i) => i.event_id)).toEqual([
      k1,
      k1,
    ]);
    // The event as /v1/events/:id answers it now; null once it left the catalog.
    const detail = await json<{ event: unknown }>(await api.get(`/v1/events/${k1}`));
    expect(later.items[3]?.event).toEqual(detail.data?.event);
    expect(later.items[4]?.event).toBeNull();
  });

  it('needs a key, answers a bad cursor 400 and a purged one 410', async () => {
    const anonymous = await api.get('/v1/changes');
    expect(anonymous.status).toBe(401);
    for (const bad of ['nope', 'YzEuMS4x!', Buffer.from('c1.01.2').toString('base64url')]) {
      const response = await api.get(`/v1/changes?after=${bad}`, { 'X-API-Key': key });
      expect({ bad, status: response.status }).toEqual({ bad, status: 400 });
      expect((await json(response)).error?.code).toBe('invalid_cursor');
    }
    const limit = await api.get('/v1/changes?limit=0', { 'X-API-Key': key });
    expect((await json(limit)).error?.message).toMatch(/^limit: /);

    const old = await readCount(undefined, 1000, await storedChanges());
    const first = old.items[0]?.cursor;
    expect(first).toBeDefined();
    await api.db.$executeRaw`UPDATE event_changes SET changed_at = now() - interval '40 days'`;
    const provider = await createProvider(api, 'after-purge');
    await write(provider, [record({ externalKey: 'new', title: 'Fresh' })]);
    expect(await new ChangeRepository(api.db).purge(30)).toBe(old.items.length);

    const expired = await api.get(`/v1/changes?after=${first}`, { 'X-API-Key': key });
    expect(expired.status).toBe(410);
    expect((await json(expired)).error?.code).toBe('cursor_expired');
    // The newest cursor before the purge still resumes exactly; so does starting over.
    expect((await readCount(old.cursor, 10, 1)).items.map((item) => item.event?.title)).toEqual([
      'Fresh',
    ]);
    expect((await readCount(undefined, 10, 1)).items.map((item) => item.event?.title)).toEqual([
      'Fresh',
    ]);
  });

  it('gives a paging reader every change exactly once while ingests commit out of order', async () => {
    const start = (await readCount(undefined, 1000, await storedChanges())).cursor;
    const providers = [await createProvider(api, 'race-a'), await createProvider(api, 'race-b')];
    const keys = Array.from({ length: 12 }, (_, i) => `e${i}`);
    const version = (round: number, p: number) =>
      keys.map((k, i) =>
        record({ externalKey: k, title: `${k} v${round}`, minPrice: `${round + p + i}.00` }),
      );
    await Promise.all(providers.map((p, i) => write(p, version(0, i))));

    // The reader pages with a small limit the whole time, keeping what it reads.
    const copy = new Map<string, unknown>();
    const seen: string[] = [];
    let cursor = start;
    // Pages that came back empty: the reader had read everything readable.
    let emptyPages = 0;
    // Set once the writers are done: how many changes they wrote in all.
    const total: { expected?: number } = {};
    const reader = (async () => {
      // Once the writers are done, everything they wrote must arrive within the deadline.
      let deadline = Infinity;
      for (;;) {
        const { expected } = total;
        if (expected !== undefined && (seen.length >= expected || Date.now() > deadline)) return;
        if (expected !== undefined && deadline === Infinity) deadline = Date.now() + 20_000;
        const next = await page(cursor, 3);
        if (next.changes.length === 0) emptyPages += 1;
        for (const item of next.changes) {
          seen.push(item.cursor);
          copy.set(item.event_id, item.event);
        }
        cursor = next.next_cursor;
      }
    })();

    const caughtUp = async () => {
      const before = emptyPages;
      await until(() => emptyPages > before);
    };
    for (let round = 1; round <= 6; round += 1) {
      await caughtUp();
      // The first transaction writes first and commits last: its changes have the smaller
      // positions, and become readable after the second one's.
      const [first, second] = round % 2 === 0 ? providers : [...providers].reverse();
      const long: EventTransaction = await api.events.openTransaction(first!);
      await long.upsertMany(version(round, 0).slice(0, 6), new Date());
      const short = await api.events.openTransaction(second!);
      await short.upsertMany(version(round, 1), new Date());
      await short.commit();
      // The reader reads to its end while the short transaction's changes are committed and
      // the long one's are not: a feed in position or commit order would hand them over now.
      await caughtUp();
      await long.upsertMany(version(round, 0).slice(6), new Date());
      await long.commit();
    }
    const stored = await api.db.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM event_changes c JOIN events e ON e.id = c.event_id
      WHERE e.provider_id = ANY(${providers.map((p) => p.id)}::uuid[])`;
    const expected = Number(stored[0]?.n);
    // 24 events created, then each updated in each of the 6 rounds.
    expect(expected).toBe(24 + 6 * 24);
    total.expected = expected;
    await reader;

    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(expected);
    const ids = await api.db.$queryRaw<{ id: string }[]>`
      SELECT id::text FROM events WHERE provider_id = ANY(${providers.map((p) => p.id)}::uuid[])`;
    expect(ids).toHaveLength(24);
    for (const { id } of ids) {
      const detail = await json<{ event: unknown }>(await api.get(`/v1/events/${id}`));
      expect(copy.get(id)).toEqual(detail.data?.event);
    }
  }, 60_000);
});

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}
