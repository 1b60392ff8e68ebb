import { Job, type Queue, type QueueEvents } from 'bullmq';
import { formatInstant } from '@marquee/config';
import type { SyncRunRepository } from '@marquee/db';
import { describeBreaker, toBreakerView, type BreakerReader } from '@marquee/provider-status';
import { readProgress, type SyncProgress } from '@marquee/queue';
import type { CliIo } from '../cli.context.ts';
import { CommandFailed } from '../cli.errors.ts';

// sync.command.ts loads this module, and BullMQ with it, only when a sync runs; BullMQ is bundled
// as CommonJS, whose dynamic import would yield only a default export.
export { Job, QueueEvents } from 'bullmq';

/** What a finished sync returns (the worker's SyncSummary), as far as the CLI prints it. */
export interface SyncOutcome {
  fetched?: number;
  parsed?: number;
  upserted?: number;
  unchanged?: number;
  rejected?: number;
  changed?: boolean;
  skipped?: string;
  truncated?: boolean;
  empty?: string;
}

export interface WatchOptions {
  job: Job;
  /** The job's queue, to read the job again as it moves. */
  queue: Queue;
  provider: { id: string; name: string };
  events: QueueEvents;
  syncRuns: SyncRunRepository;
  breakers: BreakerReader;
  io: CliIo;
  timeoutMs: number;
  /** Plain (non-terminal) output prints progress at most this often, and on each new stage. */
  progressEveryMs?: number;
}

/**
 * Follows one sync job until it ends: its progress (pages, events fetched and written), and for
 * every attempt that fails or is put off, why (the sync run's error), the provider's breaker and
 * when the next try is due. Resolves with the job's result; rejects with CommandFailed when it
 * failed for good or outlasted `timeoutMs` (it goes on in the background).
 */
export function watchSync(options: WatchOptions): Promise<SyncOutcome> {
  const watcher = new SyncWatcher(options);
  return watcher.run();
}

class SyncWatcher {
  private readonly progress: ProgressPrinter;
  private readonly maxAttempts: number;
  private attemptsSeen = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: WatchOptions) {
    this.progress = new ProgressPrinter(options.io, options.progressEveryMs ?? 2_000);
    this.maxAttempts = options.job.opts.attempts ?? 1;
    this.attemptsSeen = options.job.attemptsMade;
  }

  run(): Promise<SyncOutcome> {
    const { events, job, timeoutMs } = this.options;
    return new Promise<SyncOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new CommandFailed(
            `${this.what} still running after ${timeoutMs / 1000} s; it goes on in the background`,
          ),
        );
      }, timeoutMs);
      // Only this watcher's listeners go: QueueEvents keeps its own (its 'error' among them).
      const listeners: [string, (args: unknown) => void][] = [];
      const settle = (finish: () => void) => {
        clearTimeout(timer);
        for (const [event, listener] of listeners) events.off(event as 'active', listener);
        finish();
      };
      // Handled one at a time, in order: each may read Redis and PostgreSQL before printing; one
      // that fails ends the watch with its error.
      const inTurn = (handle: () => Promise<void>) => {
        this.queue = this.queue
          .then(handle)
          .catch((error: unknown) =>
            settle(() => reject(error instanceof Error ? error : new Error(String(error)))),
          );
      };
      const on = (event: string, handle: (args: Record<string, unknown>) => Promise<void>) => {
        const listener = (args: unknown) => {
          const record = args as Record<string, unknown>;
          if (record.jobId === job.id) inTurn(() => handle(record));
        };
        listeners.push([event, listener]);
        events.on(event as 'active', listener);
      };
      on('active', () => this.started());
      on('progress', ({ data }) => Promise.resolve(this.progress.show(this.attemptLabel(), data)));
      on('delayed', ({ delay }) => this.putOff(Number(delay)));
      on('waiting', ({ prev }) =>
        prev === 'active' ? this.putOff(Date.now()) : Promise.resolve(),
      );
      // A job joined while put off sends nothing until it runs again: say now why it waits.
      inTurn(() => this.alreadyPutOff());
      on('completed', ({ returnvalue }) =>
        Promise.resolve(settle(() => resolve(parseOutcome(returnvalue)))),
      );
      on('failed', ({ failedReason }) =>
        this.failed(String(failedReason)).then((error) => settle(() => reject(error))),
      );
    });
  }

  private get what(): string {
    return `sync of ${this.options.provider.name}`;
  }

  private attemptLabel(): string {
    return `attempt ${Math.max(1, this.attemptsSeen + 1)}/${this.maxAttempts}`;
  }

  private async started(): Promise<void> {
    const job = await Job.fromId(this.options.queue, this.options.job.id ?? '');
    // Only a job still active counts the attempts before this one: a quick failure may already
    // have counted this one too (its own event, next in line, says so).
    if (job && (await job.getState()) === 'active') this.attemptsSeen = job.attemptsMade;
    this.progress.started(this.attemptLabel());
  }

  /** A joined job that is delayed: told as its move to delayed would have been, due at the run's resumes_at. */
  private async alreadyPutOff(): Promise<void> {
    const job = await Job.fromId(this.options.queue, this.options.job.id ?? '');
    if (!job || (await job.getState()) !== 'delayed') return;
    const run = await this.options.syncRuns.findByJobId(job.id ?? '');
    await this.putOff(run?.resumesAt?.getTime() ?? Number.NaN);
  }

  /** The job went back to wait (delayed or at once): a failed attempt, or a try put off. */
  private async putOff(at: number): Promise<void> {
    const { job, error, breaker, status } = await this.explain();
    const made = job?.attemptsMade ?? this.attemptsSeen;
    const when = Number.isFinite(at) ? nextTry(at) : 'soon';
    const waiting = this.progress.takeWaiting();
    if (status === 'skipped') this.options.io.err(`skipped: ${error}; next try ${when}`);
    else if (made > this.attemptsSeen)
      this.options.io.err(
        `attempt ${made}/${this.maxAttempts} failed: ${error}; breaker ${breaker}; next retry ${when}`,
      );
    else if (waiting)
      this.options.io.err(
        `${this.attemptLabel()}: ${describeWait(waiting)} (${error}); ` +
          `${countsOf(waiting)} so far, resumes ${when}; breaker ${breaker}`,
      );
    else this.options.io.err(`put off: ${error}; breaker ${breaker}; next try ${when}`);
    this.attemptsSeen = made;
  }

  private async failed(reason: string): Promise<CommandFailed> {
    const { job, breaker } = await this.explain();
    const made = job?.attemptsMade ?? this.attemptsSeen + 1;
    const spent = made >= this.maxAttempts ? 'no attempts left' : 'not retried (permanent)';
    this.options.io.err(
      `attempt ${made}/${this.maxAttempts} failed: ${reason}; breaker ${breaker}; ${spent}`,
    );
    return new CommandFailed(`${this.what} failed after ${made} attempt(s): ${reason}`);
  }

  /** Why the job is where it is: the sync run's error (it knows skips and rate limits) first. */
  private async explain() {
    const { job: known, queue, provider, syncRuns, breakers } = this.options;
    const [job, run, reports] = await Promise.all([
      Job.fromId(queue, known.id ?? ''),
      syncRuns.findByJobId(known.id ?? ''),
      breakers([provider.id]).catch(() => undefined),
    ]);
    const finished = run && run.status !== 'running' ? run : undefined;
    return {
      job,
      status: finished?.status,
      error: finished?.error ?? job?.failedReason ?? 'unknown error',
      breaker: describeBreaker(reports ? toBreakerView(reports.get(provider.id)) : null),
    };
  }
}

function describeWait(progress: SyncProgress): string {
  return progress.waiting?.for === 'retry-after'
    ? "waiting for the provider's Retry-After"
    : 'waiting for its turn at the host';
}

function countsOf({ pages, fetched, written }: SyncProgress): string {
  return `${pages} page(s), ${fetched} fetched, ${written} written`;
}

function nextTry(at: number): string {
  const seconds = Math.max(0, Math.round((at - Date.now()) / 1000));
  return `at ${formatInstant(at)} (in ${seconds} s)`;
}

function parseOutcome(value: unknown): SyncOutcome {
  if (typeof value === 'string') {
    try {
      return JSON.parse(value) as SyncOutcome;
    } catch {
      return {};
    }
  }
  return typeof value === 'object' && value !== null ? value : {};
}

/**
 * Progress of a walk as the job catalog describes it: `fetching… 12 page(s), 2400 fetched, 1200
 * written`. On a terminal it rewrites one line; elsewhere it prints a line per new stage and at
 * most one per interval. A progress this release does not know is shown as it came.
 */
class ProgressPrinter {
  private lastStage = '';
  private lastAt = 0;
  /** The job's last progress said it waits (the worker sends it before the job is put off). */
  private waiting: SyncProgress | undefined;

  constructor(
    private readonly io: CliIo,
    private readonly everyMs: number,
  ) {}

  started(label: string): void {
    this.print('started', `${label}: started`);
  }

  show(label: string, data: unknown): void {
    const progress = readProgress('provider.sync', data);
    if (!progress) {
      this.print('unknown', `${label}: progress ${JSON.stringify(data)}`);
      return;
    }
    if (progress.stage === 'waiting') {
      // Told once, with the job's move to delayed (SyncWatcher.putOff), which names the reason.
      this.waiting = progress;
      return;
    }
    this.print(progress.stage, `${label}: ${progress.stage}… ${countsOf(progress)}`);
  }

  /** The wait the last progress announced, once. */
  takeWaiting(): SyncProgress | undefined {
    const waiting = this.waiting;
    this.waiting = undefined;
    return waiting;
  }

  private print(stage: string, line: string): void {
    if (this.io.status) {
      this.io.status(line);
      return;
    }
    const now = Date.now();
    if (stage === this.lastStage && now - this.lastAt < this.everyMs) return;
    this.lastStage = stage;
    this.lastAt = now;
    this.io.err(line);
  }
}
