// The write step against the real database: writes while parsing, all or nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bulkTransactionSlots, EventRepository, type Provider } from '@marquee/db';
import type { FetchedPayload } from '@marquee/fetch';
import { feverXml, PayloadError } from '@marquee/providers';
import { databaseStackFor, feverProvider } from '@marquee/testing';
import { generateFeeds } from '../../../bench/feed.generator.ts';
import { collectKeys, writeStream, type PayloadStream } from '../src/streamed.writer.ts';

const stack = databaseStackFor('streamed', { beforeAll, afterAll }, { maxConnections: 3 });
let events: EventRepository;
let provider: Provider;

beforeAll(async () => {
  events = new EventRepository(stack.db, { bulkTransactions: bulkTransactionSlots(3) });
  provider = await stack.providers.create(
    feverProvider('big', 'http://feed.invalid/feed.xml', { timezone: 'Europe/Madrid' }),
  );
});

const serve =
  (body: Buffer) =>
  (url: string): Promise<FetchedPayload> =>
    Promise.resolve({ status: 200, body, headers: {}, url });

async function storedCount(): Promise<number> {
  const rows = await stack.db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM events`;
  return Number(rows[0]?.n ?? 0);
}

function streamOf(body: Buffer): PayloadStream {
  const context = { url: provider.url, config: {}, timezone: 'Europe/Madrid', fetch: serve(body) };
  return (sink) => feverXml.ingestStream(context, sink);
}

async function ingest(body: Buffer, beforeFirstWrite = () => Promise.resolve()) {
  const batches: [number, number][] = [];
  const result = await writeStream(streamOf(body), {
    events,
    provider,
    seenAt: new Date(),
    beforeFirstWrite,
    onBatch: (count, written) => batches.push([count, written]),
  });
  return { ...result, batches };
}

describe('writeStream', () => {
  const feeds = generateFeeds({ events: 12_000, changedShare: 0.05, seed: 5 });

  it('a payload malformed after several written batches leaves no stored event', async () => {
    // Valid base elements first (over two write batches of 5,000), then one that never closes
    // its <event>: the skeleton is fine, only the last slice fails.
    const text = feeds.feverA.toString('utf8');
    const broken = text.replace(
      '   </output>',
      '<base_event base_event_id="x" title="T"><event event_id="1"></base_event>\n   </output>',
    );
    let firstWrites = 0;
    await expect(
      ingest(Buffer.from(broken), () => Promise.resolve(void (firstWrites += 1))),
    ).rejects.toThrow(PayloadError);
    expect(firstWrites).toBe(1);
    expect(await storedCount()).toBe(0);
    // The rolled-back transaction gave its slot back: the next write below gets it.
    expect(events.transactionGate?.inUse).toBe(0);
  });

  it('writes every event of a feed; re-ingesting writes nothing; a changed share writes only it', async () => {
    const first = await ingest(feeds.feverA);
    expect(first).toMatchObject({ parsed: { parsed: 12_000 }, written: 12_000 });
    expect(first.keys).toHaveLength(12_000);
    // Reported batch by batch, as written (progress).
    expect(first.batches.length).toBeGreaterThan(1);
    expect(first.batches.reduce((sum, [count]) => sum + count, 0)).toBe(12_000);
    expect(first.batches.reduce((sum, [, written]) => sum + written, 0)).toBe(12_000);
    expect(new Set(first.keys).size).toBe(12_000);
    expect(await storedCount()).toBe(12_000);
    expect(events.transactionGate?.inUse).toBe(0);

    expect((await ingest(feeds.feverA)).written).toBe(0);
    // A payload known to be the one last applied is read for its keys (and counts) only.
    let read = 0;
    const known = await collectKeys(streamOf(feeds.feverB), (count) => (read += count));
    expect(known).toMatchObject({ parsed: { parsed: 12_000 }, written: 0 });
    expect(known.keys).toHaveLength(12_000);
    expect(read).toBe(12_000);
    const changed = await ingest(feeds.feverB);
    expect(feeds.changed).toBe(600);
    expect(changed.written).toBe(feeds.changed);
  });
});
