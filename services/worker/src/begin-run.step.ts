import { UnrecoverableError } from 'bullmq';
import { InvalidJobError, parsePayload, type SyncJob } from '@marquee/queue';
import { zeroCounts, type SyncContext, type SyncDeps, type SyncSummary } from './sync.context.ts';
import { ProgressReporter } from './sync.progress.ts';
import { readCheckpoint } from './walk.checkpoint.ts';

export type RunStart = { sync: SyncContext } | { finished: SyncSummary };

/**
 * The first step: validates the job, then in one statement reads its provider and begins its
 * sync run (which also closes a run of this job left "running" by a stopped or killed worker,
 * and reads the provider's last applied payload). A disabled provider's run ends here.
 * An invalid payload or a provider that no longer exists fails for good: there is no run.
 */
export async function beginRun(
  deps: Pick<SyncDeps, 'syncRuns' | 'logger' | 'now' | 'budget'>,
  job: SyncJob,
  token: string | undefined,
): Promise<RunStart> {
  let payload;
  try {
    payload = parsePayload('provider.sync', job.data);
  } catch (error) {
    if (error instanceof InvalidJobError) throw new UnrecoverableError(error.message);
    throw error;
  }
  const opened = await deps.syncRuns.openRun(payload.providerId, payload.trigger, job.id);
  if (!opened) throw new UnrecoverableError(`provider ${payload.providerId} no longer exists`);
  const { provider } = opened;
  const log = deps.logger.child({ provider: provider.name, jobId: job.id });
  const counts = zeroCounts();
  if (!provider.enabled) {
    await deps.syncRuns.succeed(opened.runId, counts, []);
    log.info('provider disabled; sync skipped');
    const finished: SyncSummary = {
      ...counts,
      provider: provider.name,
      syncRunId: opened.runId,
      changed: false,
      skipped: 'disabled',
    };
    return { finished };
  }
  const resumed = readCheckpoint(opened.checkpoint, provider);
  // A resumed walk's progress goes on from its earlier attempts' pages, not from 0.
  const progress = new ProgressReporter(
    (data) => job.updateProgress(data),
    undefined,
    resumed && {
      pages: resumed.cursor.index,
      fetched: resumed.counts.parsed,
      written: resumed.counts.upserted,
    },
  );
  return {
    sync: {
      job,
      token,
      provider,
      runId: opened.runId,
      applied: opened.fetchState,
      resumed,
      seenAt: deps.now(),
      log,
      counts,
      progress,
      hold: deps.budget.hold(),
    },
  };
}
