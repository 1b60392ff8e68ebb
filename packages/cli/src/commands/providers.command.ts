import type { Command } from 'commander';
import { formatDuration } from '@marquee/config';
import type { CliContext, CliIo } from '../cli.context.ts';
import { UsageError } from '../cli.errors.ts';
import { registerProvidersApplyCommand } from './providers-apply.command.ts';
import { registerProvidersListCommand } from './providers-list.command.ts';
import { registerProvidersTestCommand } from './providers-test.command.ts';
import { registerProvidersUpdateCommand } from './providers-update.command.ts';

interface AddOptions {
  kind: string;
  url: string;
  every: string;
  timezone: string;
  config?: string;
  disabled?: boolean;
}

/** `marquee providers add|apply|update|list|remove|enable|disable|test`. */
export function registerProvidersCommand(program: Command, context: () => CliContext, io: CliIo) {
  const providers = program.command('providers').description('manage providers');

  providers
    .command('add <name>')
    .description('register a provider; its syncs are scheduled at once')
    .requiredOption('--kind <kind>', 'provider kind, e.g. fever-xml')
    .requiredOption('--url <url>', 'address of the feed or page')
    .option('--every <duration>', 'sync interval, e.g. 30s, 5m, 1h', '5m')
    .option('--timezone <zone>', 'IANA zone of times without an offset', 'UTC')
    .option('--config <file.json>', 'kind-specific configuration')
    .option('--disabled', 'register without scheduling it')
    .action(async (name: string, options: AddOptions) => {
      const ctx = context();
      const { ProviderExistsError, ProviderRepository } = await import('@marquee/db');
      const { getProviderKind } = await import('@marquee/providers');
      const check = await import('../provider.input.ts');
      const { checkEvery, checkKind, checkName, checkTimezone, checkUrl, checkUrlAddress } = check;
      const { parseKindConfig, readConfig } = check;
      const input = {
        name: checkName(name),
        kind: checkKind(options.kind),
        url: await checkUrlAddress(checkUrl(options.url), ctx.env.ALLOW_PRIVATE_PROVIDERS),
        everySeconds: checkEvery(options.every),
        timezone: checkTimezone(options.timezone),
        config: parseKindConfig(getProviderKind(options.kind), await readConfig(options.config)),
        enabled: options.disabled !== true,
      };
      try {
        await new ProviderRepository(await ctx.db()).create(input);
      } catch (error) {
        if (error instanceof ProviderExistsError) throw new UsageError(error.message);
        throw error;
      }
      io.out(
        `added provider ${input.name} (${input.kind}, every ${formatDuration(input.everySeconds)})`,
      );
    });

  registerProvidersApplyCommand(providers, context, io);
  registerProvidersUpdateCommand(providers, context, io);
  registerProvidersListCommand(providers, context, io);

  providers
    .command('remove <name>')
    .description('remove a provider, its schedule, its events and its sync history')
    .action(async (name: string) => {
      const { removed, events } = await (await repository(context)).remove(name);
      if (!removed) throw new UsageError(`no provider named "${name}"`);
      io.out(`removed provider ${name} and its ${events} event(s)`);
    });

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    providers
      .command(`${verb} <name>`)
      .description(
        enabled ? 'resume scheduled syncs' : 'stop scheduled syncs; events stay searchable',
      )
      .action(async (name: string) => {
        if (!(await (await repository(context)).setEnabled(name, enabled)))
          throw new UsageError(`no provider named "${name}"`);
        io.out(`${verb}d provider ${name}`);
      });
  }

  registerProvidersTestCommand(providers, context, io);
}

async function repository(context: () => CliContext) {
  const { ProviderRepository } = await import('@marquee/db');
  return new ProviderRepository(await context().db());
}
