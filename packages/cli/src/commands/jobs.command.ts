import type { Command } from 'commander';
import type { Job } from 'bullmq';
import type { CliContext, CliIo } from '../cli.context.ts';
import { UsageError } from '../cli.errors.ts';
import { printList } from '../table.format.ts';

interface FailedJobView {
  id: string;
  provider: string;
  failedReason: string;
  attemptsMade: number;
  failedAt: string | null;
}

/**
 * `marquee jobs failed|retry`: failed syncs stay in the queue's failed set (bounded by
 * `removeOnFail`) as dead letters, to be inspected and retried once the cause is fixed.
 */
export function registerJobsCommand(program: Command, context: () => CliContext, io: CliIo): void {
  const jobs = program.command('jobs').description('inspect and retry failed syncs (dead letters)');

  jobs
    .command('failed')
    .description('list failed syncs, newest first')
    .option('--limit <n>', 'how many to show', '50')
    .option('--json', 'print JSON')
    .action(async (options: { limit: string; json?: boolean }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError('--limit must be a positive integer');
      const ctx = context();
      const failed = await (await ctx.queue()).queue.getFailed(0, limit - 1);
      const views = await describe(ctx, failed);
      printList(io.out, views, {
        json: options.json,
        empty: 'no failed syncs',
        line: (view) =>
          `${view.id}  ${view.provider}  ${view.failedAt ?? ''}  attempts ${view.attemptsMade}  ${view.failedReason}`,
      });
    });

  jobs
    .command('retry [id]')
    .description('move a failed sync (or every one with --all) back to the queue')
    .option('--all', 'retry every failed sync')
    .action(async (id: string | undefined, options: { all?: boolean }) => {
      if ((id === undefined) === (options.all !== true))
        throw new UsageError('give a job id or --all, not both');
      const queue = (await context().queue()).queue;
      const targets = options.all ? await queue.getFailed(0, -1) : [await queue.getJob(id ?? '')];
      let retried = 0;
      for (const job of targets) {
        if (!job) throw new UsageError(`no job ${id}`);
        const state = await job.getState();
        if (state !== 'failed') throw new UsageError(`job ${job.id} is ${state}, not failed`);
        await job.retry('failed');
        retried += 1;
      }
      io.out(`retried ${retried} failed sync(s)`);
    });
}

/** Jobs named by their provider's current name (it may have been renamed since the job). */
async function describe(ctx: CliContext, failed: Job[]): Promise<FailedJobView[]> {
  const { ProviderRepository } = await import('@marquee/db');
  const providers = await new ProviderRepository(await ctx.db()).list();
  const names = new Map(providers.map((provider) => [provider.id, provider.name]));
  return failed.map((job) => {
    const { providerId, provider } = job.data as { providerId?: unknown; provider?: unknown };
    const removed = `(removed${typeof provider === 'string' ? ` ${provider}` : ''})`;
    return {
      id: job.id ?? '',
      provider: typeof providerId === 'string' ? (names.get(providerId) ?? removed) : '?',
      failedReason: job.failedReason,
      attemptsMade: job.attemptsMade,
      failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    };
  });
}
