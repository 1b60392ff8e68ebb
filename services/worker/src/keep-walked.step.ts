import type { SyncContext, SyncDeps } from './sync.context.ts';
import {
  fingerprintOf,
  mergeRejects,
  type WalkCheckpoint,
  type WalkProgress,
} from './walk.checkpoint.ts';

export type KeepDeps = Pick<SyncDeps, 'events' | 'fetchStates' | 'syncRuns' | 'cache' | 'policy'>;

/**
 * When a walk of pages fails part-way (a 429, a 502, an open breaker): keeps what this attempt
 * read, so the job's next attempt resumes at the first page not yet fetched, never at page 1.
 *
 * Invariant: a checkpoint is never ahead of the stored rows. The rows of the pages before it are
 * committed (and marked seen, so a resumed walk does not leave them looking vanished) before the
 * checkpoint is written; a crash between the two leaves the previous checkpoint, and the next
 * attempt reads those pages again: the upsert rewrites only rows whose content changed, so the
 * replay changes nothing. The applied payload is forgotten first: from then on stored rows
 * belong to a walk not yet finished, which must never be taken for "unchanged".
 */
export async function keepWalked(
  deps: KeepDeps,
  sync: SyncContext,
  walk: WalkProgress,
): Promise<void> {
  const { cursor, contentHash } = walk;
  if (walk.pages === 0 || cursor === undefined || contentHash === undefined) return;
  const { provider, seenAt } = sync;
  const parsed = walk.parsed();
  const keys = parsed.events.map((event) => event.externalKey);
  if (sync.applied?.contentHash) await deps.fetchStates.forgetPayload(provider.id);
  const { written } = await deps.events.upsertMany(provider, parsed.events, seenAt);
  await deps.events.markSeen(provider.id, keys, seenAt, deps.policy.lastSeenGranularityMs);
  if (written > 0) await deps.cache.bumpVersion();
  sync.progress.rowsWritten(written);
  const prior = sync.resumed?.counts;
  const checkpoint: WalkCheckpoint = {
    fingerprint: fingerprintOf(provider),
    cursor,
    contentHash,
    counts: {
      fetched: (prior?.fetched ?? 0) + parsed.fetched,
      parsed: (prior?.parsed ?? 0) + parsed.events.length,
      rejected: (prior?.rejected ?? 0) + parsed.rejected,
      upserted: (prior?.upserted ?? 0) + written,
    },
    rejects: mergeRejects(sync.resumed?.rejects, parsed.rejects),
  };
  await deps.syncRuns.saveCheckpoint(sync.runId, checkpoint);
  Object.assign(sync.counts, checkpoint.counts);
  sync.log.info('walk interrupted; pages read so far kept', {
    pages: walk.pages,
    resumeAt: cursor.url,
    ...checkpoint.counts,
  });
}
