import type { EventRepository, EventTransaction, ProviderRef, UpsertResult } from '@marquee/db';
import type { EventBatchSink, StreamedParse } from '@marquee/providers';

/** One batch of parsed events, as the parse hands it over. */
type EventBatch = Parameters<EventBatchSink>[0];

/** A payload being parsed: hands its events to `sink` in batches, resolves with the counts. */
export type PayloadStream = (sink: EventBatchSink) => Promise<StreamedParse>;

export interface StreamedWrite {
  /** Counts and rejects of the parse. */
  parsed: StreamedParse;
  /** Every key handed over, in order (a key repeated across batches is there twice). */
  keys: string[];
  /** Rows inserted or changed. */
  written: number;
}

export interface WriteTarget {
  events: EventRepository;
  provider: ProviderRef;
  seenAt: Date;
  /** Runs once, before the first write (e.g. forgetting the applied payload's hash). */
  beforeFirstWrite(): Promise<void>;
  /** After each batch is written: its events and the rows it wrote. */
  onBatch(events: number, written: number): void;
  /**
   * Writes a payload that came as one small batch with unique keys, in place of the
   * transaction (and of `beforeFirstWrite`): e.g. group-committed with other syncs' payloads.
   */
  writeWhole?(events: EventBatch): Promise<UpsertResult>;
}

/**
 * `writeWhole` takes payloads of fewer events than a streaming kind's batch (2,000): a streaming
 * kind hands over full batches until its last, so a first batch this small is almost always the
 * whole payload, and a large payload's first batch is written at once, never held.
 */
const WHOLE_BELOW_EVENTS = 2_000;

const uniqueKeys = (events: EventBatch) =>
  new Set(events.map((event) => event.externalKey)).size === events.length;

/**
 * The one write path: each batch the parse hands over is upserted while the next one is parsed,
 * so a large payload never exists as one array of events and the write time hides behind the
 * parse. All writes share one transaction, opened at the first batch written (not during the
 * fetch) and committed when the payload has been read to the end: a payload that turns out
 * malformed halfway writes nothing, as when it is parsed before writing. A small first batch is
 * held until the parse ends (or a second batch arrives): a payload of one small batch goes to
 * `writeWhole` instead.
 */
export async function writeStream(
  stream: PayloadStream,
  target: WriteTarget,
): Promise<StreamedWrite> {
  const keys: string[] = [];
  let written = 0;
  // Opened once, by the first batch written; a second batch may arrive while it is being opened.
  let opening: Promise<EventTransaction> | undefined;
  let held: EventBatch | undefined;
  let batches = 0;
  const write = async (batch: EventBatch) => {
    opening ??= (async () => {
      await target.beforeFirstWrite();
      return target.events.openTransaction(target.provider);
    })();
    const open = await opening;
    // Not `written += await …`: that reads `written` before the await, and calls overlap.
    const result = await open.upsertMany(batch, target.seenAt);
    written += result.written;
    target.onBatch(batch.length, result.written);
  };
  try {
    const parsed = await stream(async (batch) => {
      for (const event of batch) keys.push(event.externalKey);
      batches += 1;
      if (batches === 1 && target.writeWhole && batch.length < WHOLE_BELOW_EVENTS) {
        held = batch;
        return;
      }
      const first = held;
      held = undefined;
      // In order: the held batch's write is queued on the transaction before this one's.
      await Promise.all([first && write(first), write(batch)]);
    });
    if (held && target.writeWhole && uniqueKeys(held)) {
      const result = await target.writeWhole(held);
      written = result.written;
      target.onBatch(held.length, result.written);
    } else if (held) await write(held);
    await (await opening)?.commit();
    return { parsed, keys, written };
  } catch (error) {
    // A transaction that failed to open has nothing to undo.
    await (await opening?.catch(() => undefined))?.rollback();
    throw error;
  }
}

/** Reads the stream for its keys only: a payload known to be the applied one writes nothing. */
export async function collectKeys(
  stream: PayloadStream,
  onBatch: (events: number) => void,
): Promise<StreamedWrite> {
  const keys: string[] = [];
  const parsed = await stream((batch) => {
    for (const event of batch) keys.push(event.externalKey);
    onBatch(batch.length);
    return Promise.resolve();
  });
  return { parsed, keys, written: 0 };
}
