import type { ProviderFetchState } from '@marquee/db';

/**
 * Every rule on "unchanged", "shrunk" and "apply" lives here, as pure functions of what a sync
 * knows; the pipeline only follows their answers. `applied` is the provider's last applied
 * payload (its fetch state), null before the first.
 *
 * A payload is a `document` (a single-document kind: the provider's URL, fetched before it is
 * parsed) or `pages` (a kind that walks pages and parses each to find the next): only a document
 * may be recognised as unchanged before parsing, since one unchanged page says nothing of others.
 */
export type PayloadForm = 'document' | 'pages';

export interface DecisionPolicy {
  /** How far "last seen" may lag (markSeen's granularity). */
  lastSeenGranularityMs: number;
  /** SHRINK_GUARD_RATIO: a drop by more than this share of the applied count is suspect. */
  shrinkGuardRatio: number;
}

/**
 * Whether an unchanged payload may be taken as such unparsed, which skips marking its keys seen:
 * only a document whose keys were all marked seen under half the granularity ago (on this sync's
 * clock; a mark in the future, from a skewed or injected clock, does not count), so "last seen"
 * still lags by less than the granularity. Decides whether the conditional GET is sent.
 */
export function mayTakeUnparsed(
  form: PayloadForm,
  applied: ProviderFetchState | null,
  at: Date,
  policy: DecisionPolicy,
): boolean {
  if (form !== 'document' || !applied?.contentHash || !applied.seenMarkedAt) return false;
  const age = at.getTime() - applied.seenMarkedAt.getTime();
  return age >= 0 && age < policy.lastSeenGranularityMs / 2;
}

/** What is known of a payload once all of it is fetched, before anything is written. */
export interface PayloadFacts {
  form: PayloadForm;
  /**
   * A walk resumed from a checkpoint: the rows of its earlier pages were written already, so
   * its payload is written too, whatever its hash (only a whole payload may be "unchanged").
   */
  resumed: boolean;
  /** The provider answered 304 to the conditional GET. */
  notModified: boolean;
  contentHash: string;
}

/**
 * - `skip`: unchanged and known before parsing: not parsed, nothing written;
 * - `mark-seen`: unchanged: parsed only to mark its keys seen, nothing written;
 * - `write`: changed: written as it is parsed; `judgeShrink` then says whether it is applied.
 */
export type Decision =
  | { action: 'skip'; via: 'not-modified' | 'same-content' }
  | { action: 'mark-seen' }
  | { action: 'write' };

/** Made once per sync, when the payload is complete and before any write. */
export function decide(
  payload: PayloadFacts,
  applied: ProviderFetchState | null,
  at: Date,
  policy: DecisionPolicy,
): Decision {
  if (payload.resumed) return { action: 'write' };
  if (payload.notModified) return { action: 'skip', via: 'not-modified' };
  if (!applied?.contentHash || applied.contentHash !== payload.contentHash) {
    return { action: 'write' };
  }
  return mayTakeUnparsed(payload.form, applied, at, policy)
    ? { action: 'skip', via: 'same-content' }
    : { action: 'mark-seen' };
}

/**
 * - `applied`: "last seen" is applied and the payload becomes the reference;
 * - `shrunk`: it lost more than the guard's share of the reference's events: more often a broken
 *   feed than a real drop, so its rows are written (latest values win) but "last seen" is not
 *   applied and the reference stays;
 * - `empty`: no valid event where there were some, or a payload in which the configured items
 *   path matched nothing, even on a provider's first sync (nothing was written: nothing to write;
 *   stored events stay as they are, and the reference too).
 */
export type ShrinkVerdict = 'applied' | 'shrunk' | 'empty';

/**
 * A written payload's verdict, once its count is known: a stream writes before it knows the
 * count, and the verdict only changes the bookkeeping after the write.
 */
export function judgeShrink(
  parsedCount: number,
  applied: ProviderFetchState | null,
  policy: DecisionPolicy,
  unmatched = false,
): ShrinkVerdict {
  // A wrong items path or a changed format reads as "no events": never a silent success.
  if (unmatched && parsedCount === 0) return 'empty';
  const reference = applied?.parsedCount;
  if (reference === undefined || reference === 0) return 'applied';
  if (parsedCount === 0) return 'empty';
  const ratio = policy.shrinkGuardRatio;
  if (ratio > 0 && parsedCount < reference * (1 - ratio)) return 'shrunk';
  return 'applied';
}
