// The Db client's own connection pool: shared by Prisma and bulk writes, robust to lost connections.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createDb } from '@marquee/db';
import { createTestDatabase, eventually, type TestDatabase } from '@marquee/testing';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('prisma-client');
});

afterAll(async () => {
  await database.drop();
});

describe('Db', () => {
  it('survives an idle connection ended by the server and ends its pool on $disconnect', async () => {
    const db = createDb({ databaseUrl: database.url, maxConnections: 1 });
    // A connection leased for bulk writes only: Prisma never touched the pool.
    const client = await db.pool.connect();
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]
      ?.pid;
    client.release();
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
    // The pool hears the error on the idle connection and drops it.
    await eventually(
      () => Promise.resolve(db.pool.totalCount === 0 || undefined),
      5_000,
      'the pool to drop the ended connection',
    );
    expect(await db.event.count()).toBe(0);
    await db.$disconnect();
    expect(db.pool.ended).toBe(true);
  });
});
