import type { FetchStateUpdate } from '@marquee/db';
import type { StreamedParse } from '@marquee/providers';
import type { FetchedFacts } from './fetch.step.ts';
import type { StreamedWrite } from './streamed.writer.ts';
import { summaryOf, type SyncContext, type SyncDeps, type SyncSummary } from './sync.context.ts';
import { judgeShrink, type Decision } from './sync.decision.ts';
import { mergeRejects } from './walk.checkpoint.ts';

type FinishDeps = Pick<SyncDeps, 'events' | 'syncRuns' | 'cache' | 'policy'>;

/** The payload just read, as the provider's fetch state records it once it is applied. */
function appliedState(sync: SyncContext, facts: FetchedFacts, parsedCount: number) {
  return {
    etag: facts.etag,
    lastModified: facts.lastModified,
    contentHash: facts.contentHash,
    parsedCount,
    seenMarkedAt: sync.seenAt,
  } satisfies FetchStateUpdate;
}

/**
 * The counts of a parse, on the run (also when a later step fails); a resumed walk adds those of
 * the pages earlier attempts read.
 */
export function countParsed(sync: SyncContext, parsed: StreamedParse): void {
  const prior = sync.resumed?.counts;
  sync.counts.fetched = parsed.fetched + (prior?.fetched ?? 0);
  sync.counts.parsed = parsed.parsed + (prior?.parsed ?? 0);
  sync.counts.rejected = parsed.rejected + (prior?.rejected ?? 0);
}

/** Unchanged and known before parsing: nothing parsed, nothing written. */
export async function finishSkipped(
  deps: FinishDeps,
  sync: SyncContext,
  via: 'not-modified' | 'same-content',
): Promise<SyncSummary> {
  sync.counts.unchanged = sync.applied?.parsedCount ?? 0;
  await deps.syncRuns.succeed(sync.runId, sync.counts, [], 'unchanged');
  sync.log.info(
    via === 'not-modified'
      ? 'provider answered 304 Not Modified; nothing written'
      : 'payload unchanged (same content hash); not parsed, nothing written',
  );
  return summaryOf(sync, false);
}

/** Unchanged, parsed for its keys: "last seen" advances (markSeen writes a row at most once per half-granularity). */
async function finishMarkedSeen(
  deps: FinishDeps,
  sync: SyncContext,
  facts: FetchedFacts,
  result: StreamedWrite,
): Promise<SyncSummary> {
  const { provider, seenAt, counts } = sync;
  countParsed(sync, result.parsed);
  counts.unchanged = result.parsed.parsed;
  const granularity = deps.policy.lastSeenGranularityMs;
  await deps.events.markSeen(provider.id, result.keys, seenAt, granularity);
  await deps.syncRuns.succeed(
    sync.runId,
    counts,
    result.parsed.rejects,
    'unchanged',
    facts.truncated,
    undefined,
    { providerId: provider.id, state: appliedState(sync, facts, result.parsed.parsed) },
  );
  sync.log.info('payload unchanged (same content hash); nothing written', { ...counts });
  return { ...summaryOf(sync, false), ...(facts.truncated && { truncated: true }) };
}

/** Written: applied as usual, or flagged by the shrink guard. */
async function finishWritten(
  deps: FinishDeps,
  sync: SyncContext,
  facts: FetchedFacts,
  result: StreamedWrite,
): Promise<SyncSummary> {
  const { provider, seenAt, counts, log } = sync;
  const { parsed, keys, written } = result;
  countParsed(sync, parsed);
  // A resumed walk is judged whole: the pages earlier attempts kept count (their keys were
  // marked seen when they were kept).
  const unmatched = facts.unmatched !== undefined;
  const verdict = judgeShrink(counts.parsed, sync.applied, deps.policy, unmatched);
  const previous = sync.applied?.parsedCount;
  const rejects = mergeRejects(sync.resumed?.rejects, parsed.rejects);
  if (verdict === 'empty') {
    const reason = facts.unmatched ?? 'no valid event where the provider had some';
    await deps.syncRuns.succeed(sync.runId, counts, rejects, 'empty', facts.truncated, reason);
    log.warn(`${reason}; nothing written, stored events kept`, { previous, ...counts });
    return { ...summaryOf(sync, false), empty: reason };
  }
  if (verdict === 'applied') {
    // A row the upsert inserted or rewrote got last_seen_at = seenAt; each event handed to it
    // writes at most one row, so when all of them wrote, every key is marked already.
    if (written < keys.length) {
      await deps.events.markSeen(provider.id, keys, seenAt, deps.policy.lastSeenGranularityMs);
    }
  } else {
    log.warn('payload shrank suddenly; "last seen" not applied', {
      previous,
      parsed: counts.parsed,
    });
  }
  counts.upserted = written + (sync.resumed?.counts.upserted ?? 0);
  counts.unchanged = Math.max(0, counts.parsed - counts.upserted);
  if (counts.upserted > 0) await deps.cache.bumpVersion();
  const flag = verdict === 'shrunk' ? 'shrunk' : undefined;
  // Applied: the payload becomes the fetch state in the statement that ends the run.
  const applied =
    verdict === 'applied'
      ? { providerId: provider.id, state: appliedState(sync, facts, counts.parsed) }
      : undefined;
  await deps.syncRuns.succeed(
    sync.runId,
    counts,
    rejects,
    flag,
    facts.truncated,
    undefined,
    applied,
  );
  if (facts.truncated)
    log.warn('walk stopped at maxPages while the payload had more', { ...counts });
  log.info('sync succeeded', { ...counts, rejects: rejects.slice(0, 5) });
  return { ...summaryOf(sync, counts.upserted > 0), ...(facts.truncated && { truncated: true }) };
}

/** The last step of a parsed sync that did not fail: the run records how it ended. */
export function finishRun(
  deps: FinishDeps,
  sync: SyncContext,
  decision: Decision & { action: 'mark-seen' | 'write' },
  facts: FetchedFacts,
  result: StreamedWrite,
): Promise<SyncSummary> {
  return decision.action === 'mark-seen'
    ? finishMarkedSeen(deps, sync, facts, result)
    : finishWritten(deps, sync, facts, result);
}
