// What `isDatabaseUnavailable` says about the errors a real server (or its absence) produces.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createDb, EventRepository, isDatabaseUnavailable } from '@marquee/db';
import { createTestDatabase, type TestDatabase } from '@marquee/testing';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('db-availability');
});

afterAll(async () => {
  await database.drop();
});

/** The error a search raises against `databaseUrl`. */
async function searchError(databaseUrl: string): Promise<unknown> {
  const db = createDb({ databaseUrl });
  try {
    await new EventRepository(db).searchJson({});
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await db.$disconnect();
  }
}

describe('isDatabaseUnavailable', () => {
  it('is true for a server that refuses connections and for a missing database', async () => {
    // Nothing listens on port 1.
    expect(isDatabaseUnavailable(await searchError('postgresql://postgres@127.0.0.1:1/x'))).toBe(
      true,
    );
    const missing = `${database.url.replace(/\/[^/]*$/, '')}/missing_${randomBytes(4).toString('hex')}`;
    expect(isDatabaseUnavailable(await searchError(missing))).toBe(true);
  });

  it('is true for a connection the server terminates, through pg directly', async () => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    client.on('error', () => {});
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!
      .pid;
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await admin.end();
    const error = await client.query('SELECT 1').then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('is false for a wrong statement or an ordinary error', async () => {
    const db = createDb({ databaseUrl: database.url });
    const error = await db.$queryRawUnsafe('SELECT * FROM no_such_table').then(
      () => undefined,
      (failure: unknown) => failure,
    );
    await db.$disconnect();
    expect(error).toBeDefined();
    expect(isDatabaseUnavailable(error)).toBe(false);
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});
