// Generates the Prisma client (packages/db/src/generated/prisma) on any machine.
//
// Why a wrapper: the Prisma 7 CLI resolves its native schema engine before every command,
// downloading it when missing, and aborts when the download fails (machines without access to
// Prisma's binary host). `generate` never runs that engine, so when none is installed we point
// PRISMA_SCHEMA_ENGINE_BINARY at a placeholder file. Where a real engine is configured or
// downloadable (containers), set PRISMA_SCHEMA_ENGINE_BINARY yourself and it is left alone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) {
  const placeholder = join(root, 'node_modules', '.cache', 'marquee', 'schema-engine-placeholder');
  if (!existsSync(placeholder)) {
    mkdirSync(dirname(placeholder), { recursive: true });
    writeFileSync(placeholder, '#!/bin/sh\necho "placeholder: not a schema engine" >&2\nexit 1\n', {
      mode: 0o755,
    });
  }
  env.PRISMA_SCHEMA_ENGINE_BINARY = placeholder;
}
const result = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'prisma', 'build', 'index.js'), 'generate'],
  { cwd: root, env, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
