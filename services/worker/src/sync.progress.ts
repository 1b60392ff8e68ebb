import type { SyncProgress, SyncStage } from '@marquee/queue';

/** At most one progress update per this interval: each is a Redis round trip. */
const PROGRESS_INTERVAL_MS = 250;

/**
 * A sync's progress (`job.updateProgress`), throttled: nothing is sent during the first interval
 * (most syncs of a cycle end within it, and their result says more than any progress), then at
 * most one update per interval, the latest state last (a timer sends what a quiet interval held
 * back). Updates are sent one after the other, never awaited by the sync; `close` waits for
 * them and reports the first that failed, as an awaited update would have.
 */
export class ProgressReporter {
  private readonly state: SyncProgress;
  /** The reporter's creation counts as a send: the first update waits one interval. */
  private lastSentAt = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private closed = false;

  /** `from`: what earlier attempts of a resumed walk counted (its checkpoint). */
  constructor(
    private readonly send: (progress: SyncProgress) => Promise<void>,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
    from: Pick<SyncProgress, 'pages' | 'fetched' | 'written'> = {
      pages: 0,
      fetched: 0,
      written: 0,
    },
  ) {
    this.state = { stage: 'fetching', ...from };
  }

  /** Announces the sync (stage `fetching`). */
  start(): void {
    this.changed();
  }

  stage(stage: SyncStage): void {
    if (this.state.stage === stage) return;
    this.state.stage = stage;
    this.changed();
  }

  pageFetched(): void {
    this.state.pages += 1;
    this.changed();
  }

  /** Events read from the payload and rows written, since the last call. */
  batch(fetched: number, written: number): void {
    this.state.fetched += fetched;
    this.state.written += written;
    this.changed();
  }

  /** Valid events read from a page of a walk, as it is walked (its rows come later). */
  eventsRead(events: number): void {
    this.state.fetched += events;
    this.changed();
  }

  /** Rows written, their events counted by `eventsRead`. */
  rowsWritten(written: number): void {
    this.state.written += written;
    this.changed();
  }

  /** The counts so far (a sync put off reports them with its wait). */
  snapshot(): SyncProgress {
    return { ...this.state };
  }

  /** Stops sending and waits for updates in flight; throws the first that failed. */
  async close(): Promise<void> {
    await this.settle();
    if (this.failure !== undefined) throw this.failure;
  }

  /** Stops sending and waits for updates in flight, whatever they did (the sync failed anyway). */
  async settle(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.sending;
  }

  private changed(): void {
    if (this.closed || this.timer) return;
    const wait = this.lastSentAt + this.intervalMs - performance.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
    this.timer.unref();
  }

  private flush(): void {
    if (this.closed) return;
    this.lastSentAt = performance.now();
    const snapshot = { ...this.state };
    this.sending = this.sending
      .then(() => this.send(snapshot))
      .catch((error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      });
  }
}
