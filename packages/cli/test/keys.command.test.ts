import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiKeyRepository, createDb, type Db } from '@marquee/db';
import { createTestDatabase, type TestDatabase } from '@marquee/testing';
import { CliContext, type CliIo } from '../src/cli.context.ts';
import { runCli } from '../src/program.ts';

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase('cli-keys');
  db = createDb({ databaseUrl: database.url });
});

afterAll(async () => {
  await db.$disconnect();
  await database.drop();
});

async function marquee(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line) };
  let context: CliContext | undefined;
  const code = await runCli(
    argv,
    () => (context ??= new CliContext(io, { ...process.env, DATABASE_URL: database.url })),
    io,
  );
  await context?.close();
  return { code, out, err };
}

describe('marquee keys', () => {
  it('creates a key printed once, lists it without the secret, and revokes it', async () => {
    const created = await marquee('keys', 'create', 'partner', '--quota', '600/min');
    expect(created.code).toBe(0);
    expect(created.out).toHaveLength(1);
    const key = created.out[0]!;
    expect(key).toMatch(/^mk_[0-9a-f]{12}_[\w-]{24}$/);
    expect(created.err.join('\n')).toContain('cannot be shown again');

    const keys = new ApiKeyRepository(db);
    const verified = await keys.verify(key);
    expect(verified).toMatchObject({ name: 'partner', quotaPerMinute: 600, revokedAt: null });

    const listed = await marquee('keys', 'list');
    expect(listed.code).toBe(0);
    expect(listed.out.join('\n')).toContain('partner  quota 600/min  active');
    expect(listed.out.join('\n')).not.toContain(key.slice(-24));

    const revoked = await marquee('keys', 'revoke', verified!.id);
    expect(revoked.code).toBe(0);
    expect(await keys.verify(key)).toBeNull();
    expect((await marquee('keys', 'revoke', verified!.id)).code).toBe(2);
    expect((await marquee('keys', 'list', '--json')).out.join('')).toContain('"revokedAt": "');
  });

  it.each([
    ['keys', 'create', 'x', '--quota', 'lots'],
    ['keys', 'create', 'x', '--quota', '0/min'],
    ['keys', 'revoke', 'not-an-id'],
  ])('exits 2 on bad input (case %#)', async (...argv) => {
    expect((await marquee(...argv)).code).toBe(2);
  });
});
