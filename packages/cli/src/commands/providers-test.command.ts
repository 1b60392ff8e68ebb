import type { Command } from 'commander';
import type { CliContext, CliIo } from '../cli.context.ts';
import { CommandFailed } from '../cli.errors.ts';
import { json, table } from '../table.format.ts';

const FETCH_FOR_TEST = {
  timeoutMs: 30_000,
  maxBytes: 100 * 1024 * 1024,
  userAgent: 'Marquee/0.1 providers test',
};

interface TestOptions {
  kind: string;
  url: string;
  timezone: string;
  config?: string;
  json?: boolean;
}

/** `marquee providers test`: fetch and parse once, write nothing; needs neither database. */
export function registerProvidersTestCommand(
  providers: Command,
  context: () => CliContext,
  io: CliIo,
) {
  providers
    .command('test')
    .description('fetch and parse once, write nothing, print the normalized events')
    .requiredOption('--kind <kind>', 'provider kind, e.g. fever-xml')
    .requiredOption('--url <url>', 'address of the feed or page')
    .option('--timezone <zone>', 'IANA zone of times without an offset', 'UTC')
    .option('--config <file.json>', 'kind-specific configuration')
    .option('--json', 'print the events as a JSON array (rejects and warnings go to stderr)')
    .action(async (options: TestOptions) => {
      const { fetchPayload } = await import('@marquee/fetch');
      const { getProviderKind } = await import('@marquee/providers');
      const input = await import('../provider.input.ts');
      const { checkKind, checkTimezone, checkUrl, parseKindConfig, readConfig } = input;
      const kind = getProviderKind(checkKind(options.kind));
      const url = checkUrl(options.url);
      const timezone = checkTimezone(options.timezone);
      const config = parseKindConfig(kind, await readConfig(options.config));
      const allowPrivate = context().env.ALLOW_PRIVATE_PROVIDERS;
      const result = await kind.ingest({
        url,
        config,
        timezone,
        fetch: (pageUrl, fetchOptions) =>
          fetchPayload(pageUrl, {
            ...FETCH_FOR_TEST,
            addressPolicy: { allowPrivate },
            ...fetchOptions,
          }),
      });
      for (const reject of result.rejects) io.err(`rejected ${reject.key}: ${reject.reason}`);
      for (const warning of result.warnings ?? []) {
        io.err(`warning ${warning.key}: ${warning.reason}`);
      }
      if (result.truncated) {
        io.err('truncated: stopped at maxPages while the provider had more pages');
      }
      // A wrong items path reads as "0 events": say so, and fail (exit 1).
      if (result.unmatched !== undefined) {
        throw new CommandFailed(`${result.unmatched} in the payload of ${url}`);
      }
      if (options.json) {
        io.out(json(result.events));
        return;
      }
      io.out(
        `${result.events.length} event(s), ${result.rejected} rejected, ${result.fetched} item(s) in the payload`,
      );
      if (result.events.length === 0) return;
      io.out(
        table(
          ['KEY', 'TITLE', 'START', 'END', 'MIN', 'MAX', 'ONLINE'],
          result.events.map((event) => [
            event.externalKey,
            event.title,
            event.startsAt.toISOString(),
            event.endsAt?.toISOString() ?? '',
            event.minPrice ?? '',
            event.maxPrice ?? '',
            event.online ? 'yes' : 'no',
          ]),
        ),
      );
    });
}
