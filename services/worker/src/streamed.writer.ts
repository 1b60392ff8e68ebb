import type { EventRecord, EventRepository, ProviderRef } from '@marquee/db';
import type { IngestContext, ParseResult, StreamingProviderKind } from '@marquee/providers';

/**
 * Longest a streamed sync may keep its transaction open (parse and write of one payload). A 100k
 * event feed takes seconds; the bound only stops a stuck sync from holding row locks forever.
 */
export const STREAMED_TRANSACTION_TIMEOUT_MS = 10 * 60_000;

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
  const transaction = new LazyTransaction(target.events);
  const keys: string[] = [];
  let written = 0;
  // The first batch waits for the second: a payload that fits in one batch (most providers) is
  // written by one statement, atomic without a transaction and its round trips.
  let held: readonly EventRecord[] | undefined;
  const write = async (events: EventRepository, batch: readonly EventRecord[]) => {
    written += (await events.upsertMany(target.provider, batch, target.seenAt)).written;
    for (const event of batch) keys.push(event.externalKey);
  };
  let skipWrites: boolean | undefined;
  try {
    const summary = await kind.ingestStream(context, async (batch) => {
      skipWrites ??= target.unchanged?.() ?? false;
      if (skipWrites) {
        for (const event of batch) keys.push(event.externalKey);
        return;
      }
      if (held === undefined && keys.length === 0) {
        held = batch;
        return;
      }
      const events = await transaction.repository();
      if (held !== undefined) {
        await target.beforeFirstWrite?.();
        await write(events, held);
        held = undefined;
      }
      await write(events, batch);
    });
    if (held !== undefined) {
      await target.beforeFirstWrite?.();
      await write(target.events, held);
    }
    await transaction.commit();
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
    await transaction.rollback(error);
    throw error;
  }
}

/**
 * A Prisma interactive transaction opened on first use and held open (its callback pending)
 * until `commit` or `rollback`.
 */
class LazyTransaction {
  private opened: Promise<EventRepository> | undefined;
  private settled: Promise<unknown> | undefined;
  private finish: ((error?: unknown) => void) | undefined;

  constructor(private readonly events: EventRepository) {}

  repository(): Promise<EventRepository> {
    this.opened ??= new Promise<EventRepository>((resolveRepository, rejectRepository) => {
      this.settled = this.events.transaction(
        (events) =>
          new Promise<void>((resolve, reject) => {
            this.finish = (error) =>
              error === undefined
                ? resolve()
                : reject(error instanceof Error ? error : new Error('streamed write rolled back'));
            resolveRepository(events);
          }),
        STREAMED_TRANSACTION_TIMEOUT_MS,
      );
      // Opening failed (pool exhausted, database down): the first write fails with it.
      this.settled.catch(rejectRepository);
    });
    return this.opened;
  }

  async commit(): Promise<void> {
    if (!this.settled) return;
    this.finish?.();
    await this.settled;
  }

  async rollback(error: unknown): Promise<void> {
    if (!this.settled) return;
    this.finish?.(error ?? new Error('rolled back'));
    await this.settled.catch(() => undefined);
  }
}
