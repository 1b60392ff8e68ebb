// Prints the SQL that takes the database from one Prisma schema to another, offline, to author
// a migration: `pnpm db:diff [--from <git-ref>|--from-empty] > prisma/migrations/<ts>_<name>/migration.sql`.
// Default: from the schema committed at HEAD (which the committed migrations implement; the
// migration drift test keeps that true) to the working-tree prisma/schema.prisma.
//
// Why Prisma 6.19: Prisma 7's CLI needs a native schema engine for any diff; 6.19's wasm
// engine runs in Node. Its schema validation still wants a `url` in the datasource block,
// which Prisma 7 forbids, so both schemas are copied to a temporary folder with one added.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const fromEmpty = args.includes('--from-empty');
const fromRef = args.includes('--from') ? args[args.indexOf('--from') + 1] : 'HEAD';
const toFile = args.includes('--to')
  ? args[args.indexOf('--to') + 1]
  : join(root, 'prisma', 'schema.prisma');

const withUrl = (schema) =>
  schema.replace(/datasource\s+db\s*\{/, (block) => `${block}\n  url = env("DATABASE_URL")`);

const work = mkdtempSync(join(tmpdir(), 'marquee-diff-'));
try {
  const to = join(work, 'to.prisma');
  writeFileSync(to, withUrl(readFileSync(toFile, 'utf8')));
  const from = ['--from-empty'];
  if (!fromEmpty) {
    const previous = execFileSync('git', ['show', `${fromRef}:prisma/schema.prisma`], {
      cwd: root,
      encoding: 'utf8',
    });
    writeFileSync(join(work, 'from.prisma'), withUrl(previous));
    from.splice(0, 1, '--from-schema-datamodel', join(work, 'from.prisma'));
  }
  const placeholder = join(root, 'node_modules', '.cache', 'marquee', 'schema-engine-placeholder');
  if (!existsSync(placeholder)) {
    mkdirSync(dirname(placeholder), { recursive: true });
    writeFileSync(placeholder, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  }
  const result = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'prisma-legacy', 'build', 'index.js'),
      'migrate',
      'diff',
      '--config',
      join(root, 'prisma', 'tools', 'diff.config.ts'),
      ...from,
      '--to-schema-datamodel',
      to,
      '--script',
    ],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
        PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? placeholder,
        PRISMA_QUERY_ENGINE_LIBRARY: process.env.PRISMA_QUERY_ENGINE_LIBRARY ?? placeholder,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        CHECKPOINT_DISABLE: '1',
      },
    },
  );
  process.exitCode = result.status ?? 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
