import { DelayedError } from 'bullmq';
import type { SyncJob } from '@marquee/queue';
import { zeroCounts, type SyncDeps, type SyncSummary } from './sync.context.ts';

/** How soon a manual sync that found its provider busy looks again (no attempt spent). */
const BUSY_RECHECK_MS = 2_000;

/**
 * Before anything else: one sync at a time per provider (SyncLock). A sync finding another
 * sync of its provider going on (running, or waiting for its retry or Retry-After) does not
 * overlap it: a scheduled run is redundant and ends as a skipped run naming the owner's job; a
 * manual one (`sync` normally joins the running one, so this is a race) waits for it, delayed
 * without spending an attempt. Returns undefined when the provider is this job's to sync.
 */
export async function claimProvider(
  deps: Pick<SyncDeps, 'syncLock' | 'syncRuns' | 'logger'>,
  job: SyncJob,
  token: string | undefined,
): Promise<SyncSummary | undefined> {
  const { providerId, trigger } = job.data as { providerId?: unknown; trigger?: unknown };
  // An invalid payload is beginRun's to refuse.
  if (typeof providerId !== 'string' || job.id === undefined) return undefined;
  const owner = await deps.syncLock.claim(providerId, job.id);
  if (owner === undefined) return undefined;
  if (trigger === 'manual' && token !== undefined) {
    await job.moveToDelayed(Date.now() + BUSY_RECHECK_MS, token);
    throw new DelayedError();
  }
  const opened = await deps.syncRuns.openRun(providerId, String(trigger), job.id);
  if (!opened) return undefined;
  const { provider } = opened;
  await deps.syncRuns.skip(
    opened.runId,
    `a sync of ${provider.name} is already running (job ${owner})`,
  );
  deps.logger.info('sync already running; scheduled run skipped', {
    provider: provider.name,
    jobId: job.id,
    owner,
  });
  return {
    ...zeroCounts(),
    provider: provider.name,
    syncRunId: opened.runId,
    changed: false,
    skipped: 'already-running',
  };
}
