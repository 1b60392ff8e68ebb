import type { EventRecord } from '@marquee/event-model';
import {
  REJECT_SAMPLE_LIMIT,
  type IngestContext,
  type ParseResult,
  type ProviderKind,
  type RejectSample,
} from './provider-kind.ts';

/** One parsed item: a valid event or the reason it was rejected. */
export type ItemOutcome = { event: EventRecord } | { key: string; reason: string };

/**
 * Receives events in payload order, in batches. A call may come before the previous call's
 * promise settled (at most two are pending), so a sink can prepare a batch while the one before
 * is still being written; a sink whose writes must not overlap queues them itself, in call order.
 */
export type EventBatchSink = (events: readonly EventRecord[]) => Promise<void>;

/** A ParseResult without its events: those went to the sink. */
export type StreamedParse = Omit<ParseResult, 'events'> & { parsed: number };

/**
 * A kind that can hand events over while it still parses, so writing overlaps parsing and a large
 * payload never exists as one array of events. The sink sees every event `ingest` would return,
 * with the same counts and rejects. One difference is inherent: when a key repeats, the later item
 * wins as in `ingest`, but an earlier item already handed over in a previous batch is not taken
 * back (the sink writes it, then the later one overwrites it).
 */
export interface StreamingProviderKind<Config = unknown> extends ProviderKind<Config> {
  ingestStream(ctx: IngestContext<Config>, sink: EventBatchSink): Promise<StreamedParse>;
}

export function isStreamingKind<Config>(
  kind: ProviderKind<Config>,
): kind is StreamingProviderKind<Config> {
  return typeof (kind as Partial<StreamingProviderKind<Config>>).ingestStream === 'function';
}

const DUPLICATE = 'duplicate key: replaced by a later item with the same key';
const noop = () => undefined;

/**
 * Feeds item outcomes to a sink in batches of about `batchSize` events with at most `pending`
 * sink calls unsettled: the next batch is parsed (and handed over) while earlier ones are
 * written. Counts follow ParseResultBuilder exactly (a duplicate counts the earlier item as a
 * reject).
 */
export async function streamOutcomes(
  batches: AsyncIterable<ItemOutcome[]>,
  sink: EventBatchSink,
  batchSize = 2_000,
  pending = 2,
): Promise<StreamedParse> {
  const keys = new Set<string>();
  const rejects: RejectSample[] = [];
  let fetched = 0;
  let rejected = 0;
  let batch = new Map<string, EventRecord>();
  const inflight: Promise<void>[] = [];
  const reject = (key: string, reason: string) => {
    rejected += 1;
    if (rejects.length < REJECT_SAMPLE_LIMIT) rejects.push({ key, reason });
  };
  const flush = async () => {
    const events = [...batch.values()];
    batch = new Map();
    // A failed write rejects here (once its turn comes), which ends the parse.
    while (inflight.length >= pending) await inflight.shift();
    if (events.length === 0) return;
    const write = sink(events);
    // Handled at once: a failing write must not become an unhandled rejection while parsing.
    write.catch(noop);
    inflight.push(write);
  };
  try {
    for await (const outcomes of batches) {
      for (const outcome of outcomes) {
        fetched += 1;
        if (!('event' in outcome)) {
          reject(outcome.key, outcome.reason);
          continue;
        }
        const key = outcome.event.externalKey;
        if (keys.has(key)) {
          reject(key, DUPLICATE);
          // Within the batch, re-inserting moves the key to the winning item's position.
          batch.delete(key);
        }
        keys.add(key);
        batch.set(key, outcome.event);
      }
      if (batch.size >= batchSize) await flush();
    }
    await flush();
    while (inflight.length > 0) await inflight.shift();
  } finally {
    // Never leave a write running behind the caller's back (it may close a transaction next).
    await Promise.allSettled(inflight);
  }
  return { fetched, parsed: keys.size, rejects, rejected };
}
