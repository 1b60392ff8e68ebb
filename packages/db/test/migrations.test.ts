// The migration runner against real Postgres, and the drift check: the committed migrations build
// the same schema as the SQL Prisma generates from prisma/schema.prisma.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { migrate, MigrationError, MIGRATIONS_DIR } from '@marquee/db';
import { createTestDatabase, type TestDatabase } from '@marquee/testing';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// Helpers

const created = new Set<string>();
const testDatabases: TestDatabase[] = [];

function urlFor(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

function freshName(label: string): string {
  const name = `marquee_test_${label}_${randomBytes(4).toString('hex')}`;
  created.add(name);
  return name;
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function databaseExists(name: string): Promise<boolean> {
  return withClient(ADMIN_URL, async (admin) => {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  });
}

async function createEmptyDatabase(label: string): Promise<string> {
  const name = freshName(label);
  await withClient(ADMIN_URL, (admin) =>
    admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`),
  );
  return urlFor(name);
}

async function migratedDatabase(label: string): Promise<TestDatabase> {
  const database = await createTestDatabase(label);
  testDatabases.push(database);
  return database;
}

afterAll(async () => {
  await Promise.all(testDatabases.map((database) => database.drop()));
  await withClient(ADMIN_URL, async (admin) => {
    for (const name of created)
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  });
});

interface CommittedMigration {
  name: string;
  checksum: string;
}

/**
 * The committed migrations, with Prisma's checksum: sha256 (hex) of the migration.sql bytes. Read
 * here, not through the runner's own listing, so a folder the runner skipped or misordered shows.
 */
async function committedMigrations(
  dir = join(ROOT, 'prisma', 'migrations'),
): Promise<CommittedMigration[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => ({
      name,
      checksum: createHash('sha256')
        .update(await readFile(join(dir, name, 'migration.sql')))
        .digest('hex'),
    })),
  );
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

async function migrationRows(url: string): Promise<MigrationRow[]> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<MigrationRow>(
      'SELECT * FROM "_prisma_migrations" ORDER BY migration_name',
    );
    return rows;
  });
}

/** A copy of the committed migrations to tamper with. */
async function copyOfMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'marquee-migrations-'));
  await cp(join(ROOT, 'prisma', 'migrations'), dir, { recursive: true });
  return dir;
}

// ---------------------------------------------------------------------------------------------
// The runner

describe('migrate()', () => {
  let expected: CommittedMigration[];
  let database: TestDatabase;

  beforeAll(async () => {
    expected = await committedMigrations();
    database = await migratedDatabase('migrations');
  });

  it('reads the committed migrations folder', () => {
    expect(MIGRATIONS_DIR).toBe(join(ROOT, 'prisma', 'migrations'));
    expect(expected.length).toBeGreaterThan(0);
  });

  it('records one finished row per migration folder, as Prisma does', async () => {
    const rows = await migrationRows(database.url);
    expect(
      rows.map((row) => ({
        name: row.migration_name,
        checksum: row.checksum,
        finished: row.finished_at instanceof Date,
        rolledBack: row.rolled_back_at,
        steps: row.applied_steps_count,
        logs: row.logs,
      })),
    ).toEqual(
      expected.map(({ name, checksum }) => ({
        name,
        checksum,
        finished: true,
        rolledBack: null,
        steps: 1,
        logs: null,
      })),
    );
    for (const row of rows) {
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }
  });

  it('applies nothing the second time', async () => {
    const before = await migrationRows(database.url);
    await expect(migrate({ databaseUrl: database.url })).resolves.toEqual({
      applied: [],
      createdDatabase: false,
    });
    expect(await migrationRows(database.url)).toEqual(before);
  });

  it('two concurrent runs on a database that does not exist yet both succeed, applying each migration once', async () => {
    for (let round = 0; round < 3; round++) {
      const name = freshName('migrations_race');
      expect(await databaseExists(name)).toBe(false);
      const url = urlFor(name);
      const results = await Promise.all([
        migrate({ databaseUrl: url }),
        migrate({ databaseUrl: url }),
      ]);
      expect(results.flatMap((result) => result.applied).sort()).toEqual(
        expected.map((migration) => migration.name),
      );
      expect(results.some((result) => result.createdDatabase)).toBe(true);
      const rows = await migrationRows(url);
      expect(
        rows.map((row) => [row.migration_name, row.checksum, row.finished_at !== null]),
      ).toEqual(
        expected.map(({ name: migrationName, checksum }) => [migrationName, checksum, true]),
      );
    }
  });

  it('refuses to go on when an applied migration was edited afterwards', async () => {
    const dir = await copyOfMigrations();
    try {
      const [first] = expected;
      const file = join(dir, first!.name, 'migration.sql');
      const bytes = await readFile(file);
      // One byte: the case of the first letter of a comment, so the SQL itself stays the same.
      const comment = bytes.indexOf('--');
      const letter =
        comment === -1
          ? -1
          : bytes.findIndex(
              (byte, at) => at > comment && /[A-Za-z]/.test(String.fromCharCode(byte)),
            );
      if (letter === -1) await writeFile(file, Buffer.concat([bytes, Buffer.from('\n')]));
      else {
        bytes[letter] = bytes[letter]! ^ 0x20;
        await writeFile(file, bytes);
      }
      expect((await committedMigrations(dir))[0]!.checksum).not.toBe(first!.checksum);

      const attempt = migrate({ databaseUrl: database.url, migrationsDir: dir });
      await expect(attempt).rejects.toBeInstanceOf(MigrationError);
      await expect(attempt).rejects.toThrow(
        `migration ${first!.name} was edited after it was applied`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a migration that fails is rolled back whole, recorded nowhere, and reported', async () => {
    const dir = await copyOfMigrations();
    try {
      const broken = '99999999999999_broken';
      await mkdir(join(dir, broken));
      await writeFile(
        join(dir, broken, 'migration.sql'),
        'CREATE TABLE "half_done" ("id" INTEGER);\nSELECT * FROM "no_such_table";\n',
      );
      const attempt = migrate({ databaseUrl: database.url, migrationsDir: dir });
      await expect(attempt).rejects.toBeInstanceOf(MigrationError);
      await expect(attempt).rejects.toThrow(`migration ${broken} failed`);
      await withClient(database.url, async (client) => {
        const { rows } = await client.query<{ table: string | null }>(
          `SELECT to_regclass('half_done')::text AS table`,
        );
        expect(rows[0]!.table).toBeNull();
      });
      expect((await migrationRows(database.url)).map((row) => row.migration_name)).toEqual(
        expected.map((migration) => migration.name),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to go on after a failed migration until it is marked rolled back', async () => {
    const failedDatabase = await migratedDatabase('migrations_failed');
    const name = '20990101000000_failed_earlier';
    await withClient(failedDatabase.url, (client) =>
      client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at)
         VALUES (gen_random_uuid()::text, $1, $2, 'ERROR: boom', now())`,
        ['0'.repeat(64), name],
      ),
    );
    const attempt = migrate({ databaseUrl: failedDatabase.url });
    await expect(attempt).rejects.toBeInstanceOf(MigrationError);
    await expect(attempt).rejects.toThrow(`migration ${name} failed earlier`);

    await withClient(failedDatabase.url, (client) =>
      client.query(
        `UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = $1`,
        [name],
      ),
    );
    await expect(migrate({ databaseUrl: failedDatabase.url })).resolves.toEqual({
      applied: [],
      createdDatabase: false,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Drift: prisma/schema.prisma and prisma/migrations describe the same database

interface SchemaSnapshot {
  tables: string[];
  columns: string[];
  indexes: string[];
  constraints: string[];
  enums: string[];
  sequences: string[];
  extensions: string[];
}

const normalise = (sql: string): string =>
  sql
    .replace(/\bpublic\./g, '')
    .replace(/\s+/g, ' ')
    .trim();

/**
 * The public schema as the catalog sees it, bookkeeping excluded. Functions and triggers are left
 * out: Prisma does not model them (the init migration's NOTIFY trigger is extra SQL).
 */
async function snapshot(client: pg.Client): Promise<SchemaSnapshot> {
  const list = async (sql: string): Promise<string[]> =>
    (await client.query<{ line: string }>(sql)).rows.map((row) => normalise(row.line)).sort();
  return {
    tables: await list(`
      SELECT tablename AS line FROM pg_tables
      WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`),
    columns: await list(`
      SELECT format('%s.%s %s %s default=%s collation=%s identity=%s generated=%s',
               c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
               CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'NULL' END,
               coalesce(pg_get_expr(d.adbin, d.adrelid), '-'), a.attcollation::regcollation,
               nullif(a.attidentity, ''), nullif(a.attgenerated, '')) AS line
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> '_prisma_migrations'
        AND a.attnum > 0 AND NOT a.attisdropped`),
    indexes: await list(`
      SELECT format('%s %s: %s', tablename, indexname, indexdef) AS line FROM pg_indexes
      WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`),
    constraints: await list(`
      SELECT format('%s %s (%s): %s', c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)) AS line
      FROM pg_constraint con
      JOIN pg_class c ON c.oid = con.conrelid
      JOIN pg_namespace n ON n.oid = con.connamespace
      WHERE n.nspname = 'public' AND c.relname <> '_prisma_migrations'`),
    enums: await list(`
      SELECT format('%s: %s', t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)) AS line
      FROM pg_type t
      JOIN pg_enum e ON e.enumtypid = t.oid
      JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = 'public'
      GROUP BY t.typname`),
    sequences: await list(`
      SELECT format('%s %s start=%s by=%s', sequencename, data_type, start_value, increment_by) AS line
      FROM pg_sequences WHERE schemaname = 'public'`),
    extensions: await list(`SELECT extname AS line FROM pg_extension`),
  };
}

/** SQL Prisma generates for the whole schema, offline (Prisma 6.19's wasm engine; see the script). */
async function prismaGeneratedSql(): Promise<string> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [join(ROOT, 'scripts', 'prisma-diff.mjs'), '--from-empty'],
    {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: ADMIN_URL },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return stdout
    .split('\n')
    .filter((line) => !line.startsWith('Loaded Prisma config'))
    .join('\n');
}

/**
 * The one difference the migrations make on purpose: events.provider_id has no foreign key, its
 * checks and cascade are statement triggers (20261207180000_event_provider_check_per_statement).
 */
function withoutEventProviderKey(prisma: SchemaSnapshot): SchemaSnapshot {
  const key = prisma.constraints.filter((line) =>
    line.startsWith('events events_provider_id_fkey '),
  );
  expect(key).toHaveLength(1);
  return { ...prisma, constraints: prisma.constraints.filter((line) => !key.includes(line)) };
}

describe('schema drift', () => {
  let prismaUrl: string;
  let migrated: TestDatabase;
  let fromPrisma: SchemaSnapshot;
  let fromMigrations: SchemaSnapshot;

  beforeAll(async () => {
    const [sql, database] = await Promise.all([prismaGeneratedSql(), migratedDatabase('drift')]);
    expect(sql).toMatch(/CREATE TABLE/);
    migrated = database;
    prismaUrl = await createEmptyDatabase('drift_prisma');
    await withClient(prismaUrl, (client) => client.query(sql));
    fromPrisma = withoutEventProviderKey(await withClient(prismaUrl, snapshot));
    fromMigrations = await withClient(migrated.url, snapshot);
  }, 180_000);

  it('the committed migrations build exactly the schema Prisma generates from schema.prisma', () => {
    expect(fromPrisma.tables.length).toBeGreaterThanOrEqual(3);
    expect(fromPrisma.indexes.length).toBeGreaterThan(fromPrisma.tables.length);
    expect(fromPrisma.constraints.some((line) => line.includes('FOREIGN KEY'))).toBe(true);
    expect(fromMigrations).toEqual(fromPrisma);
  });

  it('the comparison notices a difference in any part (checked by altering a copy inside a rolled-back transaction)', async () => {
    const firstColumn = (predicate: (line: string) => boolean): [string, string] => {
      const line = fromPrisma.columns.find(predicate);
      if (!line) throw new Error('no column to alter');
      const [table, column] = line.split(' ')[0]!.split('.') as [string, string];
      return [pg.escapeIdentifier(table), pg.escapeIdentifier(column)];
    };
    const [nullableTable, nullableColumn] = firstColumn(
      (line) => / NULL default=/.test(line) && !/NOT NULL/.test(line),
    );
    const [textTable, textColumn] = firstColumn((line) => / text NOT NULL default=-/.test(line));
    const table = pg.escapeIdentifier(fromPrisma.tables[0]!);
    const alterations: [keyof SchemaSnapshot, string][] = [
      ['tables', 'CREATE TABLE "drift_probe" ("id" INTEGER)'],
      ['columns', `ALTER TABLE ${nullableTable} ALTER COLUMN ${nullableColumn} SET NOT NULL`],
      ['columns', `ALTER TABLE ${textTable} ALTER COLUMN ${textColumn} TYPE VARCHAR(500)`],
      ['columns', `ALTER TABLE ${textTable} ALTER COLUMN ${textColumn} SET DEFAULT 'x'`],
      ['indexes', `CREATE INDEX "drift_probe_idx" ON ${textTable} (${textColumn} DESC)`],
      ['constraints', `ALTER TABLE ${table} ADD CONSTRAINT "drift_probe_check" CHECK (true)`],
      ['enums', `CREATE TYPE "DriftProbe" AS ENUM ('a', 'b')`],
    ];
    await withClient(prismaUrl, async (client) => {
      for (const [part, sql] of alterations) {
        await client.query('BEGIN');
        try {
          await client.query(sql);
          const altered = await snapshot(client);
          expect({ sql, changed: altered[part] }).not.toEqual({
            sql,
            changed: fromMigrations[part],
          });
        } finally {
          await client.query('ROLLBACK');
        }
      }
      expect(withoutEventProviderKey(await snapshot(client))).toEqual(fromMigrations);
    });
  });

  it('the migrations add the providers_changed trigger, which Prisma does not model, and it notifies', async () => {
    const triggers = (client: pg.Client) =>
      client
        .query<{ tgname: string }>(
          `SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass('providers') AND NOT tgisinternal`,
        )
        .then(({ rows }) => rows.map((row) => row.tgname));
    expect((await withClient(migrated.url, triggers)).sort()).toEqual([
      'providers_changed',
      'providers_id_fixed',
      'providers_removed_events',
    ]);
    expect(await withClient(prismaUrl, triggers)).toEqual([]);

    await withClient(migrated.url, async (client) => {
      await client.query('LISTEN marquee_providers_changed');
      const notified = new Promise<string>((resolve) =>
        client.once('notification', (message: pg.Notification) => resolve(message.channel)),
      );
      await client.query(
        `INSERT INTO providers (id, name, kind, url, every_seconds)
         VALUES (gen_random_uuid(), 'drift-trigger', 'fever-xml', 'http://127.0.0.1/feed.xml', 60)`,
      );
      await expect(notified).resolves.toBe('marquee_providers_changed');
    });
  });
});
