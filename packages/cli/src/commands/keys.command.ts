import type { Command } from 'commander';
import type { CliContext, CliIo } from '../cli.context.ts';
import { UsageError } from '../cli.errors.ts';
import { printList } from '../table.format.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `--quota 600/min` or `--quota 600`: requests per minute. */
function parseQuota(text: string): number {
  const match = /^(\d{1,9})(?:\/min)?$/.exec(text.trim());
  const quota = match ? Number(match[1]) : NaN;
  if (!Number.isInteger(quota) || quota < 1) {
    throw new UsageError('--quota must be requests per minute, e.g. 600/min');
  }
  return quota;
}

/** `marquee keys create|list|revoke`: API keys for the HTTP API, stored hashed. */
export function registerKeysCommand(program: Command, context: () => CliContext, io: CliIo): void {
  const keys = program.command('keys').description('manage API keys of the HTTP API');

  keys
    .command('create <name>')
    .description('create a key; it is printed once and cannot be shown again')
    .option('--quota <n/min>', 'requests per minute (default: the API service default for keys)')
    .action(async (name: string, options: { quota?: string }) => {
      if (name.trim() === '' || name.length > 200)
        throw new UsageError('name must be 1-200 characters');
      const quota = options.quota === undefined ? null : parseQuota(options.quota);
      const repository = await keyRepository(context);
      const { key, info } = await repository.create(name, quota);
      io.out(key);
      io.err(
        `created key ${info.id} "${info.name}" (quota ${quota === null ? 'default' : `${quota}/min`}); ` +
          'store it now: it is not kept and cannot be shown again',
      );
    });

  keys
    .command('list')
    .description('list keys (never the keys themselves)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await (await keyRepository(context)).list();
      printList(io.out, list, {
        json: options.json,
        empty: 'no keys',
        line: (key) => {
          const quota = key.quotaPerMinute === null ? 'default' : `${key.quotaPerMinute}/min`;
          const state = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : 'active';
          return `${key.id}  mk_${key.prefix}_…  ${key.name}  quota ${quota}  ${state}`;
        },
      });
    });

  keys
    .command('revoke <id>')
    .description('revoke a key (API replicas stop accepting it within 30 s)')
    .action(async (id: string) => {
      if (!UUID.test(id)) throw new UsageError('id must be a key id as `keys list` shows it');
      const revoked = await (await keyRepository(context)).revoke(id.toLowerCase());
      if (!revoked) throw new UsageError(`no active key ${id}`);
      io.out(`revoked ${id}`);
    });
}

async function keyRepository(context: () => CliContext) {
  const { ApiKeyRepository } = await import('@marquee/db');
  return new ApiKeyRepository(await context().db());
}
