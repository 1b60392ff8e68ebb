import type { EventRepository, EventTransaction, ProviderRef } from '@marquee/db';
import type { IngestContext, ParseResult, StreamingProviderKind } from '@marquee/providers';

export interface StreamedIngest {
  /** The kind's result without its events (they are written): counts and rejects only. */
  parsed: ParseResult;
  /** Events in the payload (unique keys), as `parsed.events.length` would be. */
  parsedCount: number;
  /** Keys of those events, for "last seen" bookkeeping. */
  keys: string[];
  /** Rows inserted or changed. */
  written: number;
}

/**
 * Parses and writes at once: each batch the kind hands over is upserted while the next one is
 * parsed, so a large payload never exists as one array of events and the write time hides behind
 * the parse. All writes share one transaction, opened at the first batch (not during the fetch)
 * and committed when the payload has been read to the end: a payload that turns out malformed
 * halfway writes nothing, as when it is parsed before writing.
 */
export async function ingestStreamed<Config>(
  kind: StreamingProviderKind<Config>,
  context: IngestContext<Config>,
  target: {
    events: EventRepository;
    provider: ProviderRef;
    seenAt: Date;
    /** Runs once before the first write (e.g. forgetting the applied payload's hash). */
    beforeFirstWrite?: () => Promise<void>;
    /**
     * Asked once, at the first batch (the payload is fetched by then): true when the payload is
     * byte for byte the one last applied, so writing it would change nothing and only cost time.
     */
    unchanged?: () => boolean;
  },
): Promise<StreamedIngest> {
  const keys: string[] = [];
  let written = 0;
  let skipWrites: boolean | undefined;
  // Opened once, by the first batch; a second batch may arrive while it is being opened.
  let opening: Promise<EventTransaction> | undefined;
  try {
    const summary = await kind.ingestStream(context, async (batch) => {
      skipWrites ??= target.unchanged?.() ?? false;
      for (const event of batch) keys.push(event.externalKey);
      if (skipWrites) return;
      opening ??= (async () => {
        await target.beforeFirstWrite?.();
        return target.events.openTransaction(target.provider);
      })();
      const open = await opening;
      // Not `written += await …`: that reads `written` before the await, and calls overlap.
      const result = await open.upsertMany(batch, target.seenAt);
      written += result.written;
    });
    await (await opening)?.commit();
    return {
      parsed: {
        fetched: summary.fetched,
        events: [],
        rejects: summary.rejects,
        rejected: summary.rejected,
      },
      parsedCount: summary.parsed,
      keys,
      written,
    };
  } catch (error) {
    // A transaction that failed to open has nothing to undo.
    await (await opening?.catch(() => undefined))?.rollback();
    throw error;
  }
}
