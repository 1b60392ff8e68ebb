// Progress updates are Redis round trips: none for a sync shorter than one interval, then at most
// one per interval, the latest state last, in order, and a failed one is reported (as an awaited
// update would fail the sync).
import { describe, expect, it } from '@jest/globals';
import type { SyncProgress } from '@marquee/queue';
import { eventually } from '@marquee/testing';
import { ProgressReporter } from '../src/sync.progress.ts';

function recording(intervalMs: number) {
  const sent: SyncProgress[] = [];
  const reporter = new ProgressReporter(async (progress) => {
    sent.push(progress);
    await Promise.resolve();
  }, intervalMs);
  return { sent, reporter };
}

describe('ProgressReporter', () => {
  it('sends nothing for a sync that ends within the first interval', async () => {
    const { sent, reporter } = recording(10_000);
    reporter.start();
    for (let page = 0; page < 50; page++) reporter.pageFetched();
    reporter.batch(2_000, 2_000);
    await reporter.close();
    expect(sent).toEqual([]);
  });

  it('sends the latest state once the interval has passed, without a further change', async () => {
    const { sent, reporter } = recording(50);
    reporter.start();
    reporter.pageFetched();
    reporter.stage('writing');
    reporter.batch(10, 7);
    await eventually(() => Promise.resolve(sent.length === 1 || undefined), 5_000, 'an update');
    expect(sent[0]).toEqual({ stage: 'writing', pages: 1, fetched: 10, written: 7 });
    reporter.batch(5, 5);
    await eventually(() => Promise.resolve(sent.length === 2 || undefined), 5_000, 'an update');
    expect(sent[1]).toEqual({ stage: 'writing', pages: 1, fetched: 15, written: 12 });
    await reporter.close();
  });

  it('sends nothing after close, and close reports the first failed update', async () => {
    const sent: SyncProgress[] = [];
    const reporter = new ProgressReporter((progress) => {
      sent.push(progress);
      return Promise.reject(new Error('redis down'));
    }, 0);
    reporter.start();
    reporter.pageFetched();
    await expect(reporter.close()).rejects.toThrow('redis down');
    reporter.pageFetched();
    await reporter.settle();
    expect(sent).toHaveLength(2);
  });

  it("a resumed walk goes on from its earlier attempts' counts; a walk's events count once", async () => {
    const sent: SyncProgress[] = [];
    const reporter = new ProgressReporter(
      (progress) => {
        sent.push(progress);
        return Promise.resolve();
      },
      0,
      { pages: 3, fetched: 12, written: 12 },
    );
    reporter.start();
    reporter.pageFetched();
    reporter.eventsRead(4);
    reporter.rowsWritten(4);
    await reporter.close();
    expect(sent.at(-1)).toEqual({ stage: 'fetching', pages: 4, fetched: 16, written: 16 });
    expect(reporter.snapshot()).toEqual(sent.at(-1));
  });
});
