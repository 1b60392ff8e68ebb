import { Option, type Command } from 'commander';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseDuration } from '@marquee/config';
import { breakerReader } from '@marquee/provider-status';
import type { IngestQueue } from '@marquee/queue';
import type { CliContext, CliIo } from '../cli.context.ts';
import { UsageError } from '../cli.errors.ts';
import { json } from '../table.format.ts';
import type { SyncOutcome } from './sync.watcher.ts';

interface SyncOptions {
  wait?: boolean;
  timeout: string;
  json?: boolean;
}

/** `marquee sync <name> [--wait]`: enqueue a sync now, and with --wait follow it to its end. */
export function registerSyncCommand(program: Command, context: () => CliContext, io: CliIo) {
  program
    .command('sync <name>')
    .description('enqueue a sync of one provider now')
    .option('--wait', 'follow it: progress, each failed attempt, breaker; exit 1 if it failed')
    .addOption(new Option('--timeout <duration>', 'how long --wait waits').default('10m'))
    .option('--json', 'print the job (or with --wait the sync summary) as JSON')
    .action(async (name: string, options: SyncOptions) => {
      const timeoutMs = parseTimeout(options.timeout);
      const ctx = context();
      const [db, queue] = await Promise.all([ctx.db(), ctx.queue()]);
      const { QueueEvents, watchSync } = await import('./sync.watcher.ts');
      const { ProviderRepository, SyncRunRepository } = await import('@marquee/db');
      const { QUEUE_NAMES } = await import('@marquee/queue');
      const provider = await new ProviderRepository(db).findByName(name);
      if (!provider) throw new UsageError(`no provider named "${name}"`);
      if (!provider.enabled) throw new UsageError(`provider ${name} is disabled; enable it first`);

      // QueueEvents blocks its connection on XREAD, so it gets one of its own. It reads from the
      // stream's last entry before the job exists, not from its first XREAD: a quick sync's
      // early events would otherwise fall between the two.
      const events = options.wait
        ? new QueueEvents(QUEUE_NAMES.ingest, {
            connection: await ctx.blockingRedis(),
            prefix: ctx.env.QUEUE_PREFIX,
            lastEventId: await lastEventId(await ctx.redis(), queue.queue.toKey('events')),
          })
        : undefined;
      try {
        await events?.waitUntilReady();
        const { job, joined } = await startOrJoin(queue, provider);
        const said = joined
          ? `joined the sync of ${name} already going on (job ${job.id})`
          : `queued sync of ${name} (job ${job.id})`;
        if (!events) {
          io.out(options.json ? json({ provider: name, jobId: job.id, joined }) : said);
          return;
        }
        io.err(said);
        const outcome = await watchSync({
          job,
          queue: queue.queue,
          provider,
          events,
          syncRuns: new SyncRunRepository(db),
          breakers: breakerReader(await ctx.redis(), ctx.env.QUEUE_PREFIX),
          io,
          timeoutMs,
        });
        io.out(
          options.json
            ? json({ provider: name, jobId: job.id, ...outcome })
            : summary(name, outcome),
        );
      } finally {
        await events?.close();
      }
    });
}

/**
 * One sync at a time per provider: the sync going on (or its scheduled run that is due) is
 * joined; otherwise a manual sync is queued, the same job for every `sync` until it has run.
 */
async function startOrJoin(
  queue: IngestQueue,
  provider: { id: string; name: string },
): Promise<{ job: Job; joined: boolean }> {
  const watcher = await import('./sync.watcher.ts');
  const pending = await queue.pendingSync(provider);
  const existing =
    pending === undefined ? undefined : await watcher.Job.fromId(queue.queue, pending);
  if (existing) return { job: existing, joined: true };
  return { job: await queue.enqueueManualSync(provider), joined: false };
}

/** Id of the newest entry of a Redis stream, `0-0` when it has none. */
async function lastEventId(redis: Redis, stream: string): Promise<string> {
  const [newest] = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
  return newest?.[0] ?? '0-0';
}

function parseTimeout(text: string): number {
  try {
    return parseDuration(text) * 1000;
  } catch (error) {
    throw new UsageError(`--timeout: ${(error as Error).message}`);
  }
}

function summary(name: string, outcome: SyncOutcome): string {
  if (outcome.skipped) return `${name}: skipped (${outcome.skipped})`;
  const unchanged = outcome.changed ? '' : ' (catalog unchanged)';
  const truncated = outcome.truncated
    ? '; truncated: stopped at maxPages while the provider had more pages'
    : '';
  const empty = outcome.empty ? `; empty: ${outcome.empty}, stored events kept` : '';
  return `${name}: succeeded; fetched ${outcome.fetched}, parsed ${outcome.parsed}, upserted ${outcome.upserted}, unchanged ${outcome.unchanged}, rejected ${outcome.rejected}${unchanged}${truncated}${empty}`;
}
