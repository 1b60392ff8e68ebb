import { hostname } from 'node:os';
import CircuitBreaker from 'opossum';
import type { Logger } from '@marquee/logger';
import { BudgetWaitError, FetchError } from './http.fetcher.ts';

export type BreakerState = 'closed' | 'open' | 'halfOpen';

/**
 * The circuit breaker of one provider as last reported by a worker. Breakers live in each worker
 * process; this is the latest transition or failure any worker published, for operators (CLI, API,
 * dashboard), never an input to the worker's own decisions.
 */
export interface BreakerStatus {
  state: BreakerState;
  /** Message of the last failure the breaker counted, if any since it was created. */
  lastError?: string;
  lastErrorAt?: string;
  /** When an open breaker lets the next probe through (ISO), while open. */
  probeAt?: string;
  /** Which worker process reported it ("host:pid"). */
  reportedBy: string;
  updatedAt: string;
}

export interface BreakerOptions {
  /** A call slower than this counts as a failure (the fetch keeps its own, shorter deadline). */
  timeoutMs: number;
  errorThresholdPercentage: number;
  volumeThreshold: number;
  resetTimeoutMs: number;
  /** Rolling window the error share is computed over. */
  windowMs: number;
}

/**
 * The provider's breaker is open: nothing is fetched until `retryAfterMs` has passed. A
 * `rate-limited` FetchError, so the sync processor delays the job without spending an attempt.
 */
export class BreakerOpenError extends FetchError {
  constructor(provider: string, retryAfterMs: number, lastError: string | undefined) {
    super(
      `circuit breaker of ${provider} is open${lastError ? ` (last error: ${lastError})` : ''}; next probe in ${retryAfterMs} ms`,
      'rate-limited',
      { retryAfterMs },
    );
  }
}

/** Errors that say nothing about the provider's health: 404s and other 4xx, refused addresses. */
function isNotCounted(error: unknown): boolean {
  if (error instanceof BudgetWaitError) return true;
  return error instanceof FetchError && error.classification === 'permanent';
}

type Action = () => Promise<unknown>;

interface Entry {
  breaker: CircuitBreaker<[Action], unknown>;
  name: string;
  openedAt: number;
  lastError?: string;
  lastErrorAt?: string;
}

/**
 * One long-lived opossum breaker per provider in this process (short-lived breakers never open).
 * Every state change and counted failure is reported through `report` (Redis, for operators).
 */
export class BreakerRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly reportedBy = `${hostname()}:${process.pid}`;

  constructor(
    private readonly options: BreakerOptions,
    private readonly report: (providerId: string, status: BreakerStatus) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /**
   * Runs one provider call through the provider's breaker. Open → BreakerOpenError without calling;
   * a breaker timeout becomes a transient FetchError.
   */
  async run<T>(provider: { id: string; name: string }, call: () => Promise<T>): Promise<T> {
    const entry = this.entry(provider);
    try {
      return (await entry.breaker.fire(call)) as T;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'EOPENBREAKER') {
        throw new BreakerOpenError(provider.name, this.retryAfterMs(entry), entry.lastError);
      }
      if (code === 'ETIMEDOUT' && !(error instanceof FetchError)) {
        throw new FetchError(
          `circuit breaker timeout: no answer within ${this.options.timeoutMs} ms`,
          'transient',
          { cause: error },
        );
      }
      throw error;
    }
  }

  state(providerId: string): BreakerState | undefined {
    const breaker = this.entries.get(providerId)?.breaker;
    if (!breaker) return undefined;
    return breaker.opened ? 'open' : breaker.halfOpen ? 'halfOpen' : 'closed';
  }

  /** Stops every breaker's timers (at shutdown). */
  shutdown(): void {
    for (const { breaker } of this.entries.values()) breaker.shutdown();
    this.entries.clear();
  }

  private retryAfterMs(entry: Entry): number {
    // Half-open with its one probe in flight also rejects: come back shortly after the probe.
    const untilProbe = entry.openedAt + this.options.resetTimeoutMs - Date.now();
    return Math.max(1_000, untilProbe);
  }

  private entry(provider: { id: string; name: string }): Entry {
    const existing = this.entries.get(provider.id);
    if (existing) return existing;
    const breaker = new CircuitBreaker<[Action], unknown>((call: Action) => call(), {
      name: provider.name,
      timeout: this.options.timeoutMs,
      errorThresholdPercentage: this.options.errorThresholdPercentage,
      volumeThreshold: this.options.volumeThreshold,
      resetTimeout: this.options.resetTimeoutMs,
      rollingCountTimeout: this.options.windowMs,
      rollingCountBuckets: 10,
      errorFilter: isNotCounted,
    });
    const entry: Entry = { breaker, name: provider.name, openedAt: 0 };
    breaker.on('open', () => {
      entry.openedAt = Date.now();
      this.logger.warn('circuit breaker opened', {
        provider: provider.name,
        error: entry.lastError,
      });
      this.publish(provider.id, entry, 'open');
    });
    breaker.on('halfOpen', () => this.publish(provider.id, entry, 'halfOpen'));
    breaker.on('close', () => {
      this.logger.info('circuit breaker closed', { provider: provider.name });
      this.publish(provider.id, entry, 'closed');
    });
    breaker.on('failure', (error: unknown) => {
      entry.lastError = error instanceof Error ? error.message : String(error);
      entry.lastErrorAt = new Date().toISOString();
      // An 'open' event follows when this failure trips the breaker; report the failure itself
      // only when the state stays the same.
      if (!breaker.opened)
        this.publish(provider.id, entry, breaker.halfOpen ? 'halfOpen' : 'closed');
    });
    this.entries.set(provider.id, entry);
    return entry;
  }

  private publish(providerId: string, entry: Entry, state: BreakerState): void {
    const status: BreakerStatus = {
      state,
      reportedBy: this.reportedBy,
      updatedAt: new Date().toISOString(),
      ...(entry.lastError !== undefined && { lastError: entry.lastError }),
      ...(entry.lastErrorAt !== undefined && { lastErrorAt: entry.lastErrorAt }),
      ...(state === 'open' && {
        probeAt: new Date(entry.openedAt + this.options.resetTimeoutMs).toISOString(),
      }),
    };
    // Reporting is for operators: a Redis hiccup must not fail the sync, but is never silent.
    this.report(providerId, status).catch((error: unknown) =>
      this.logger.warn('could not publish breaker state', {
        provider: entry.name,
        error: String(error),
      }),
    );
  }
}
