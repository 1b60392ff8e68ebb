import { isDeepStrictEqual } from 'node:util';
import type { Command } from 'commander';
import { formatDuration } from '@marquee/config';
import type { Provider, ProviderChanges } from '@marquee/db';
import type { CliContext, CliIo } from '../cli.context.ts';
import { UsageError } from '../cli.errors.ts';

interface UpdateOptions {
  url?: string;
  every?: string;
  timezone?: string;
  config?: string;
  enable?: boolean;
  disable?: boolean;
}

/** `marquee providers update <name> [--url] [--every] [--timezone] [--config] [--enable|--disable]`. */
export function registerProvidersUpdateCommand(
  providers: Command,
  context: () => CliContext,
  io: CliIo,
) {
  providers
    .command('update <name>')
    .description('change a provider in place; its events, ids and sync history stay')
    .option('--url <url>', 'new address of the feed or page')
    .option('--every <duration>', 'new sync interval, e.g. 30s, 5m, 1h')
    .option('--timezone <zone>', 'new IANA zone of times without an offset')
    .option('--config <file.json>', 'new kind-specific configuration (replaces the old one)')
    .option('--enable', 'resume scheduled syncs')
    .option('--disable', 'stop scheduled syncs')
    .action(async (name: string, options: UpdateOptions) => {
      if (options.enable && options.disable)
        throw new UsageError('--enable and --disable cannot be given together');
      const ctx = context();
      const { ProviderRepository } = await import('@marquee/db');
      const repository = new ProviderRepository(await ctx.db());
      const current = await repository.findByName(name);
      if (!current) throw new UsageError(`no provider named "${name}"`);
      const changes = await readChanges(current, options, ctx.env.ALLOW_PRIVATE_PROVIDERS);
      if (Object.keys(changes).length === 0)
        throw new UsageError(
          'nothing to update: give --url, --every, --timezone, --config, --enable or --disable',
        );
      const updated = await repository.update(name, changes);
      if (!updated) throw new UsageError(`no provider named "${name}"`);
      io.out(describeUpdate(current, updated));
    });
}

async function readChanges(
  current: Provider,
  options: UpdateOptions,
  allowPrivate: boolean,
): Promise<ProviderChanges> {
  const { getProviderKind } = await import('@marquee/providers');
  const { checkEvery, checkTimezone, checkUrl, checkUrlAddress, parseKindConfig, readConfig } =
    await import('../provider.input.ts');
  const changes: ProviderChanges = {};
  if (options.url !== undefined)
    changes.url = await checkUrlAddress(checkUrl(options.url), allowPrivate);
  if (options.every !== undefined) changes.everySeconds = checkEvery(options.every);
  if (options.timezone !== undefined) changes.timezone = checkTimezone(options.timezone);
  if (options.config !== undefined)
    changes.config = parseKindConfig(
      getProviderKind(current.kind),
      await readConfig(options.config),
    );
  if (options.enable) changes.enabled = true;
  if (options.disable) changes.enabled = false;
  return changes;
}

function describeUpdate(before: Provider, after: Provider): string {
  const changed = [
    before.url !== after.url && `url ${after.url}`,
    before.everySeconds !== after.everySeconds && `every ${formatDuration(after.everySeconds)}`,
    before.timezone !== after.timezone && `timezone ${after.timezone}`,
    !isDeepStrictEqual(before.config, after.config) && 'config',
    before.enabled !== after.enabled && (after.enabled ? 'enabled' : 'disabled'),
  ].filter((part) => typeof part === 'string');
  return changed.length === 0
    ? `provider ${after.name} unchanged`
    : `updated provider ${after.name}: ${changed.join(', ')}`;
}
