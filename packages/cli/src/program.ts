import { Command, CommanderError, Option } from 'commander';
import { QueueEvents } from 'bullmq';
import { ConfigError, formatDuration, parseDuration } from '@marquee/config';
import { migrate, ProviderExistsError, type SyncRun } from '@marquee/db';
import { fetchPayload } from '@marquee/fetch';
import { getProviderKind } from '@marquee/providers';
import { QUEUE_NAMES, readProgress } from '@marquee/queue';
import { describeBreaker, loadBreakerStatuses } from './breaker.status.ts';
import type { CliContext, CliIo } from './cli.context.ts';
import { registerJobsCommand } from './jobs.command.ts';
import { registerKeysCommand } from './keys.command.ts';
import {
  checkEvery,
  checkKind,
  checkName,
  checkTimezone,
  checkUrl,
  checkUrlAddress,
  parseKindConfig,
  readConfig,
  UsageError,
} from './provider.input.ts';

/** A command that ran but did not succeed (a failed sync): exit code 1. */
export class CommandFailed extends Error {
  override name = 'CommandFailed';
}

interface SyncSummaryLike {
  provider?: string;
  fetched?: number;
  parsed?: number;
  upserted?: number;
  unchanged?: number;
  rejected?: number;
  changed?: boolean;
  skipped?: string;
}

const FETCH_FOR_TEST = {
  timeoutMs: 30_000,
  maxBytes: 100 * 1024 * 1024,
  userAgent: 'Marquee/0.1 providers test',
};

export function buildProgram(context: () => CliContext, io: CliIo): Command {
  const program = new Command('marquee')
    .description('Marquee: ingest event listings from providers into one catalog')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.trimEnd()),
      writeErr: (text) => io.err(text.trimEnd()),
    });

  program
    .command('migrate')
    .description('apply pending database migrations (creates the database if needed)')
    .action(async () => {
      const ctx = context();
      const result = await migrate({ databaseUrl: ctx.env.DATABASE_URL, log: io.err });
      io.out(
        result.applied.length === 0
          ? 'database is up to date'
          : `applied ${result.applied.length} migration(s)`,
      );
    });

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
    .action(
      async (
        name: string,
        options: {
          kind: string;
          url: string;
          every: string;
          timezone: string;
          config?: string;
          disabled?: boolean;
        },
      ) => {
        const input = {
          name: checkName(name),
          kind: checkKind(options.kind),
          url: await checkUrlAddress(checkUrl(options.url), context().env.ALLOW_PRIVATE_PROVIDERS),
          everySeconds: checkEvery(options.every),
          timezone: checkTimezone(options.timezone),
          config: parseKindConfig(getProviderKind(options.kind), await readConfig(options.config)),
          enabled: options.disabled !== true,
        };
        try {
          await context().providers.create(input);
        } catch (error) {
          if (error instanceof ProviderExistsError) throw new UsageError(error.message);
          throw error;
        }
        io.out(
          `added provider ${input.name} (${input.kind}, every ${formatDuration(input.everySeconds)})`,
        );
      },
    );

  providers
    .command('list')
    .description('list providers with their last sync')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const ctx = context();
      const rows = await ctx.providers.list();
      const withRuns = await Promise.all(
        rows.map(async (provider) => ({
          provider,
          lastSync: await ctx.syncRuns.latest(provider.id),
        })),
      );
      const breakers = await loadBreakerStatuses(
        ctx,
        rows.map((provider) => provider.id),
      );
      if (options.json) {
        io.out(
          JSON.stringify(
            withRuns.map(({ provider, lastSync }) => ({
              name: provider.name,
              kind: provider.kind,
              url: provider.url,
              every: formatDuration(provider.everySeconds),
              timezone: provider.timezone,
              enabled: provider.enabled,
              lastSync: lastSync && describeRun(lastSync),
              // null: Redis could not be read; absent from Redis: closed (never reported).
              breaker: breakers ? (breakers.get(provider.id) ?? { state: 'closed' }) : null,
            })),
            null,
            2,
          ),
        );
        return;
      }
      if (rows.length === 0) {
        io.out(
          'no providers; add one with: marquee providers add <name> --kind <kind> --url <url>',
        );
        return;
      }
      io.out(
        table(
          ['NAME', 'KIND', 'ENABLED', 'EVERY', 'TIMEZONE', 'LAST SYNC', 'BREAKER', 'URL'],
          withRuns.map(({ provider, lastSync }) => [
            provider.name,
            provider.kind,
            provider.enabled ? 'yes' : 'no',
            formatDuration(provider.everySeconds),
            provider.timezone,
            lastSync ? summarizeRun(lastSync) : 'never',
            describeBreaker(breakers?.get(provider.id), breakers !== undefined),
            provider.url,
          ]),
        ),
      );
    });

  providers
    .command('remove <name>')
    .description('remove a provider, its schedule, its events and its sync history')
    .action(async (name: string) => {
      const { removed, events } = await context().providers.remove(name);
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
        if (!(await context().providers.setEnabled(name, enabled)))
          throw new UsageError(`no provider named "${name}"`);
        io.out(`${verb}d provider ${name}`);
      });
  }

  providers
    .command('test')
    .description('fetch and parse once, write nothing, print the normalized events')
    .requiredOption('--kind <kind>', 'provider kind, e.g. fever-xml')
    .requiredOption('--url <url>', 'address of the feed or page')
    .option('--timezone <zone>', 'IANA zone of times without an offset', 'UTC')
    .option('--config <file.json>', 'kind-specific configuration')
    .option('--json', 'print the events as a JSON array (rejects go to stderr)')
    .action(
      async (options: {
        kind: string;
        url: string;
        timezone: string;
        config?: string;
        json?: boolean;
      }) => {
        const kind = getProviderKind(checkKind(options.kind));
        const url = checkUrl(options.url);
        const timezone = checkTimezone(options.timezone);
        const config = parseKindConfig(kind, await readConfig(options.config));
        const result = await kind.ingest({
          url,
          config,
          timezone,
          fetch: (pageUrl, fetchOptions) =>
            fetchPayload(pageUrl, {
              ...FETCH_FOR_TEST,
              addressPolicy: { allowPrivate: context().env.ALLOW_PRIVATE_PROVIDERS },
              ...fetchOptions,
            }),
        });
        for (const reject of result.rejects) io.err(`rejected ${reject.key}: ${reject.reason}`);
        if (options.json) {
          io.out(JSON.stringify(result.events, null, 2));
          return;
        }
        io.out(
          `${result.events.length} event(s), ${result.rejected} rejected, ${result.fetched} item(s) in the payload`,
        );
        if (result.events.length > 0) {
          io.out(
            table(
              ['KEY', 'TITLE', 'START', 'END', 'MIN', 'MAX', 'ONLINE'],
              result.events.map((event) => [
                event.externalKey,
                event.title,
                event.startAt.toISOString(),
                event.endAt?.toISOString() ?? '',
                event.minPrice ?? '',
                event.maxPrice ?? '',
                event.online ? 'yes' : 'no',
              ]),
            ),
          );
        }
      },
    );

  program
    .command('sync <name>')
    .description('enqueue a sync of one provider now')
    .option('--wait', 'wait for it, show progress, print a summary; exit 1 if it failed')
    .addOption(new Option('--timeout <duration>', 'how long --wait waits').default('10m'))
    .action(async (name: string, options: { wait?: boolean; timeout: string }) => {
      const ctx = context();
      const timeoutMs = parseTimeout(options.timeout);
      const provider = await ctx.providers.findByName(name);
      if (!provider) throw new UsageError(`no provider named "${name}"`);
      if (!provider.enabled) throw new UsageError(`provider ${name} is disabled; enable it first`);

      let events: QueueEvents | undefined;
      // QueueEvents blocks its connection on XREAD, so it gets its own; BullMQ never closes a
      // connection it was given.
      const eventsRedis = options.wait ? ctx.redis.duplicate() : undefined;
      try {
        if (eventsRedis) {
          events = new QueueEvents(QUEUE_NAMES.ingest, {
            connection: eventsRedis,
            prefix: ctx.env.QUEUE_PREFIX,
          });
          await events.waitUntilReady();
        }
        const job = await ctx.queue.enqueueSync({ providerId: provider.id, trigger: 'manual' });
        io.err(`queued sync of ${name} (job ${job.id})`);
        if (!events) return;
        events.on('progress', ({ jobId, data }) => {
          if (jobId === job.id) io.err(describeProgress(data));
        });
        events.on('retries-exhausted', ({ jobId }) => {
          if (jobId === job.id) io.err('no attempts left');
        });
        let summary: SyncSummaryLike;
        try {
          summary = (await job.waitUntilFinished(events, timeoutMs)) as SyncSummaryLike;
        } catch (error) {
          const message = (error as Error).message;
          if (/timed out/i.test(message)) {
            throw new CommandFailed(
              `sync of ${name} still running after ${options.timeout}; it goes on in the background`,
            );
          }
          throw new CommandFailed(`sync of ${name} failed: ${message}`);
        }
        io.out(
          summary.skipped
            ? `${name}: skipped (${summary.skipped})`
            : `${name}: succeeded; fetched ${summary.fetched}, parsed ${summary.parsed}, upserted ${summary.upserted}, unchanged ${summary.unchanged}, rejected ${summary.rejected}${summary.changed ? '' : ' (catalog unchanged)'}`,
        );
      } finally {
        await events?.close();
        await eventsRedis?.quit();
      }
    });

  registerKeysCommand(program, context, io);
  registerJobsCommand(program, context, io);
  return program;
}

function parseTimeout(text: string): number {
  try {
    return parseDuration(text) * 1000;
  } catch (error) {
    throw new UsageError(`--timeout: ${(error as Error).message}`);
  }
}

function describeProgress(data: unknown): string {
  const progress = readProgress('provider.sync', data);
  if (!progress) return `progress: ${JSON.stringify(data)}`;
  const pages = `${progress.pages} page${progress.pages === 1 ? '' : 's'}`;
  switch (progress.stage) {
    case 'fetching':
      return `fetching… (${pages})`;
    case 'parsing':
      return `parsing… (${pages}, ${progress.fetched} event(s) read)`;
    case 'writing':
      return `writing… (${progress.fetched} event(s) read, ${progress.written} written)`;
  }
}

function describeRun(run: SyncRun) {
  return {
    status: run.status,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    fetched: run.fetched,
    parsed: run.parsed,
    upserted: run.upserted,
    unchanged: run.unchanged,
    rejected: run.rejected,
    error: run.error,
    flag: run.flag,
  };
}

function summarizeRun(run: SyncRun): string {
  const when = run.startedAt.toISOString().replace(/\.\d+Z$/, 'Z');
  if (run.status === 'failed') return `${when} failed: ${run.error ?? 'unknown error'}`;
  if (run.status === 'running') return `${when} running`;
  const flag = run.flag ? ` [${run.flag}]` : '';
  return `${when} ok${flag} (${run.upserted} upserted, ${run.unchanged} unchanged, ${run.rejected} rejected)`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Runs the CLI; returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(
  argv: string[],
  context: () => CliContext,
  io: CliIo,
): Promise<number> {
  const program = buildProgram(context, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.err(`error: ${error.message}`);
      return 2;
    }
    io.err(`error: ${(error as Error).message}`);
    return 1;
  }
}
