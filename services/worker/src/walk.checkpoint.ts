import { createHash } from 'node:crypto';
import { z } from 'zod';
import { REJECT_SAMPLE_SIZE, type Provider, type RejectSample } from '@marquee/db';
import {
  ParseResultBuilder,
  type PageCursor,
  type ParseResult,
  type WalkedPage,
} from '@marquee/providers';

const count = z.number().int().min(0);

const checkpointSchema = z.object({
  /** The provider's kind, URL and config it was made for: another walk never resumes there. */
  fingerprint: z.string(),
  /** The first page not yet fetched. */
  cursor: z.object({ url: z.string().min(1), index: count, seen: count, item: count.optional() }),
  /** The content hash chain (PayloadRecorder) over the bodies of the pages before it. */
  contentHash: z.string(),
  /** Totals of the pages before it, all attempts together. */
  counts: z.object({ fetched: count, parsed: count, rejected: count, upserted: count }),
  rejects: z.array(z.object({ key: z.string(), reason: z.string() })),
});

/**
 * Where a failed walk of pages resumes, and what its pages before that point added up to. Kept
 * on the sync run (`SyncRunRepository.saveCheckpoint`) after those pages' rows were committed;
 * the job's next attempt reads it (`openRun`).
 */
export type WalkCheckpoint = z.output<typeof checkpointSchema>;

/** Which provider a checkpoint is for: a changed URL or config starts the walk afresh. */
export function fingerprintOf(provider: Pick<Provider, 'kind' | 'url' | 'config'>): string {
  return createHash('sha256')
    .update(JSON.stringify([provider.kind, provider.url, provider.config]))
    .digest('hex');
}

/** The stored checkpoint, if it is one (of this release) and for this provider as it is now. */
export function readCheckpoint(
  stored: unknown,
  provider: Pick<Provider, 'kind' | 'url' | 'config'>,
): WalkCheckpoint | undefined {
  if (stored === null || stored === undefined) return undefined;
  const result = checkpointSchema.safeParse(stored);
  if (!result.success || result.data.fingerprint !== fingerprintOf(provider)) return undefined;
  return result.data;
}

/** The first `REJECT_SAMPLE_SIZE` of both lists, earlier pages first. */
export function mergeRejects(
  prior: readonly RejectSample[] | undefined,
  rejects: readonly RejectSample[],
): RejectSample[] {
  return [...(prior ?? []), ...rejects].slice(0, REJECT_SAMPLE_SIZE);
}

/**
 * One attempt's walk as it goes: the pages read since it started (or resumed), and after each
 * the cursor of the next page and the content hash so far.
 */
export class WalkProgress {
  private readonly result = new ParseResultBuilder();
  /** Pages read by this attempt. */
  pages = 0;
  cursor: PageCursor | undefined;
  contentHash: string | undefined;

  add(page: WalkedPage, contentHash: string): void {
    for (const outcome of page.outcomes) this.result.add(outcome);
    this.pages += 1;
    this.cursor = page.next;
    this.contentHash = contentHash;
  }

  /** The pages read by this attempt, as one parse. */
  parsed(): ParseResult {
    return this.result.build();
  }
}
