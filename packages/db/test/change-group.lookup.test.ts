// The change feed's group lookup (marquee_canonical_group_members, run by the triggers on every
// statement that writes events) must read `events` by its key indexes whatever the size the
// planner saw: a session caches the function's generic plan, and one planned while the table was
// small scanned it whole ever after (5-20 ms per statement at 30,000-100,000 rows, a first
// 1,000-provider cycle, bench/RESULTS.md).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { EventGroupWriter, type Provider } from '@marquee/db';
import { eventRecord, startDatabaseStack, type DatabaseStack } from '@marquee/testing';

let stack: DatabaseStack;
let provider: Provider;

const events = (from: number, count: number) =>
  Array.from({ length: count }, (_, n) =>
    eventRecord({
      externalKey: `k${from + n}`,
      title: `Show ${from + n}`,
      venue: {
        name: `Hall ${n}`,
        address: null,
        city: 'Madrid',
        country: null,
        lat: null,
        lon: null,
      },
    }),
  );

const write = (from: number, count: number) =>
  new EventGroupWriter(stack.db.pool).write({
    provider,
    events: events(from, count),
    seenAt: new Date(),
    forgetPayload: false,
  });

beforeAll(async () => {
  stack = await startDatabaseStack('change_group_lookup', { maxConnections: 2 });
  provider = await stack.providers.create({
    name: 'venue',
    kind: 'fever-xml',
    url: 'http://127.0.0.1/venue',
    everySeconds: 60,
    timezone: 'UTC',
  });
  await write(0, 5);
});

afterAll(async () => {
  await stack.close();
});

describe('the change feed group lookup', () => {
  it('reads events by index after the table grew, in a session that planned it small', async () => {
    const session = new pg.Client({ connectionString: stack.database.url });
    await session.connect();
    const lookup = (call: number) =>
      session.query(
        `SELECT count(*) FROM marquee_canonical_group_members($1::text[], $2::text[])`,
        [
          [`dedupe:code-${call}`, 'absent'],
          [`match-${call}`, 'absent'],
        ],
      );
    try {
      // Past plpgsql's five custom plans: the session keeps a generic plan from here on.
      for (let call = 0; call < 8; call += 1) await lookup(call);
      await write(5, 3_000);
      await session.query('BEGIN');
      await lookup(8);
      const { rows } = await session.query<{ seq_scan: string }>(
        `SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'events'`,
      );
      expect(Number(rows[0]?.seq_scan)).toBe(0);
    } finally {
      await session.query('ROLLBACK');
      await session.end();
    }
  });
});
