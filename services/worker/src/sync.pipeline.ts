import type { SyncJob } from '@marquee/queue';
import { beginRun } from './begin-run.step.ts';
import { claimProvider } from './claim-provider.step.ts';
import { failRun } from './fail-run.step.ts';
import { fetchPayload, sourceOf } from './fetch.step.ts';
import { countParsed, finishRun, finishSkipped } from './finish-run.step.ts';
import { streamOf } from './parse.step.ts';
import { PermanentSyncError, ProviderRemovedError } from './sync-failure.error.ts';
import { collectKeys, writeStream, type WriteTarget } from './streamed.writer.ts';
import type { SyncContext, SyncDeps, SyncSummary } from './sync.context.ts';
import { decide } from './sync.decision.ts';

export type ProcessSync = (job: SyncJob, token?: string) => Promise<SyncSummary>;

/** `walked`: the events were counted page by page as the walk read them; only rows are left. */
function writeTarget(deps: SyncDeps, sync: SyncContext, walked: boolean): WriteTarget {
  return {
    events: deps.events,
    provider: sync.provider,
    seenAt: sync.seenAt,
    beforeFirstWrite: async () => {
      sync.progress.stage('writing');
      // Until `save` records the new payload, none may be taken for "unchanged": a partial or
      // flagged write leaves rows that match neither the old payload nor the new one.
      if (sync.applied?.contentHash) await deps.fetchStates.forgetPayload(sync.provider.id);
    },
    onBatch: (events, written) =>
      walked ? sync.progress.rowsWritten(written) : sync.progress.batch(events, written),
    // A small payload shares a transaction with other syncs' (group commit); the applied
    // payload is forgotten in that same transaction.
    writeWhole: (events) => {
      sync.progress.stage('writing');
      return deps.events.writeGrouped({
        provider: sync.provider,
        events,
        seenAt: sync.seenAt,
        forgetPayload: Boolean(sync.applied?.contentHash),
      });
    },
  };
}

/** The steps after `beginRun`, in order; any failure goes to `failRun`. */
async function runSync(deps: SyncDeps, sync: SyncContext): Promise<SyncSummary> {
  const source = sourceOf(sync.provider);
  sync.progress.start();
  const payload = await fetchPayload(deps, sync, source);
  const decision = decide(payload.facts, sync.applied, sync.seenAt, deps.policy);
  if (decision.action === 'skip') {
    await sync.progress.close();
    return finishSkipped(deps, sync, decision.via);
  }
  // Pages were parsed while walked: their counts are known before anything is written.
  if (payload.form === 'pages')
    countParsed(sync, { ...payload.parsed, parsed: payload.parsed.events.length });
  else sync.progress.stage('parsing');
  const stream = streamOf(source, payload, sync.provider.timezone, deps.parseLimits);
  const walked = payload.form === 'pages';
  const result =
    decision.action === 'write'
      ? await writeStream(stream, writeTarget(deps, sync, walked))
      : await collectKeys(stream, (events) => {
          if (!walked) sync.progress.batch(events, 0);
        });
  await sync.progress.close();
  return finishRun(deps, sync, decision, payload.facts, result);
}

/**
 * A removed provider's sync ends as ProviderRemovedError, whatever failed first: its run is gone
 * with it, so recording the failure fails too, and no ORM message may reach the job's reason.
 */
async function stopIfRemoved(
  deps: SyncDeps,
  sync: SyncContext,
  fail: () => Promise<Error>,
): Promise<Error> {
  const removed = () => deps.providers.exists(sync.provider.id).then((exists) => !exists);
  try {
    if (await removed()) return new ProviderRemovedError(sync.provider.name);
    return await fail();
  } catch (error) {
    if (await removed()) return new ProviderRemovedError(sync.provider.name);
    throw error;
  }
}

/**
 * One provider sync as a pipeline of steps, each in its own module: claim the provider → begin
 * run → guarded fetch → decide → parse/stream → write → finish the run, or fail it. Failures
 * are classified for BullMQ, never swallowed (fail-run.step.ts). The provider stays claimed
 * while the job will be tried again; a job that failed for good is found stale by the next.
 */
export function createSyncPipeline(deps: SyncDeps): ProcessSync {
  return async (job, token) => {
    const busy = await claimProvider(deps, job, token);
    if (busy) return busy;
    const release = () => deps.syncLock.release(job.data.providerId, job.id ?? '');
    const start = await beginRun(deps, job, token);
    if ('finished' in start) {
      await release();
      return start.finished;
    }
    const { sync } = start;
    try {
      const summary = await runSync(deps, sync);
      await release();
      return summary;
    } catch (error) {
      await sync.progress.settle();
      const failure = await stopIfRemoved(deps, sync, () => failRun(deps, sync, error));
      if (failure instanceof PermanentSyncError) await release();
      throw failure;
    } finally {
      sync.hold.release();
    }
  };
}
