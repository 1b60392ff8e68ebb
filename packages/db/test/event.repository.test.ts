import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createDb,
  EventRepository,
  ProviderRepository,
  type Db,
  type EventRecord,
} from '@marquee/db';
import { createTestDatabase, type TestDatabase } from '@marquee/testing';

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase('event-repo');
  db = createDb({ databaseUrl: database.url });
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

const record = (over: Partial<EventRecord> = {}): EventRecord => ({
  externalKey: '1/1',
  title: 'A show',
  startAt: new Date('2021-06-30T21:00:00Z'),
  endAt: new Date('2021-06-30T22:00:00Z'),
  timezone: 'UTC',
  minPrice: '15.00',
  maxPrice: '30.00',
  currency: null,
  online: true,
  ...over,
});

describe('EventRepository.upsertMany', () => {
  it('inserts, skips unchanged rows, rewrites changed ones and never un-sets ever_online', async () => {
    const provider = await new ProviderRepository(db).create({
      name: 'p1',
      kind: 'fever-xml',
      url: 'http://127.0.0.1/x',
      everySeconds: 60,
      timezone: 'UTC',
    });
    const events = new EventRepository(db);
    const now = new Date();
    expect(
      await events.upsertMany(provider, [record(), record({ externalKey: '1/2' })], now),
    ).toEqual({ written: 2 });
    expect(
      await events.upsertMany(provider, [record(), record({ externalKey: '1/2' })], now),
    ).toEqual({ written: 0 });
    expect(
      await events.upsertMany(provider, [record({ online: false, title: 'Renamed' })], now),
    ).toEqual({ written: 1 });
    const row = await db.event.findFirstOrThrow({ where: { externalKey: '1/1' } });
    expect(row).toMatchObject({ title: 'Renamed', online: false, everOnline: true });
    const json = JSON.parse(await events.searchJson({})) as unknown[];
    expect(json).toHaveLength(2);
    expect(json[0]).toEqual({
      id: row.id,
      title: 'Renamed',
      start_date: '2021-06-30',
      start_time: '21:00:00',
      end_date: '2021-06-30',
      end_time: '22:00:00',
      min_price: 15,
      max_price: 30,
    });
  });
});
