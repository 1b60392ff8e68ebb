import type { Redis } from 'ioredis';
import type { ProviderStatus, ProviderStatusRepository } from '@marquee/db';
import {
  readBreakerStatuses,
  type BreakerState,
  type BreakerStatus,
} from './breaker-state.store.ts';

/** A provider's circuit breaker as operators see it; a provider no worker reported on is closed. */
export interface BreakerView {
  state: BreakerState;
  lastError: string | null;
  lastErrorAt: string | null;
  /** When an open breaker lets the next probe through (ISO); null unless open. */
  probeAt: string | null;
  /** When a worker last reported it (ISO); null when none ever has. */
  updatedAt: string | null;
}

/** The type of camelCase(S). */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** A row's fields, spelled as views spell them. */
type Camelized<Row> = { [K in keyof Row as CamelCase<K & string>]: Row[K] };

/** The last sync run of a provider. */
export type LastSyncView = Camelized<NonNullable<ProviderStatus['last_sync']>>;

/** A provider's row (events stored, last success, last sync) with its circuit breaker. */
export type ProviderStatusView = Camelized<Omit<ProviderStatus, 'last_sync'>> & {
  lastSync: LastSyncView | null;
  /** null: unknown, the breaker reports could not be read (Redis down or slow). */
  breaker: BreakerView | null;
};

export interface ProviderStatusReport {
  providers: ProviderStatusView[];
  /** False when Redis could not be read in time: every `breaker` is then null. */
  breakersKnown: boolean;
}

/** Breaker reports by provider id (readBreakerStatuses bound to a connection and prefix). */
export type BreakerReader = (providerIds: readonly string[]) => Promise<Map<string, BreakerStatus>>;

export function breakerReader(redis: Redis, prefix: string): BreakerReader {
  return (providerIds) => readBreakerStatuses(redis, prefix, providerIds);
}

export interface ProviderStatusReaderOptions {
  statuses: Pick<ProviderStatusRepository, 'list'>;
  /** Without it every breaker is unknown. */
  breakers?: BreakerReader | undefined;
  /** Longest wait for the breaker reports before answering without them (default 2 s). */
  breakerTimeoutMs?: number;
}

const CLOSED: BreakerView = {
  state: 'closed',
  lastError: null,
  lastErrorAt: null,
  probeAt: null,
  updatedAt: null,
};

/**
 * Provider status for operators: each provider with its stored events, last sync, last success
 * and circuit breaker, joined once here for the CLI, the API and the dashboard. PostgreSQL is
 * required; the breaker reports (Redis) degrade the answer to "unknown", never fail it.
 */
export class ProviderStatusReader {
  constructor(private readonly options: ProviderStatusReaderOptions) {}

  async read(): Promise<ProviderStatusReport> {
    const rows = await this.options.statuses.list();
    const reports = await this.readBreakers(rows.map((row) => row.id));
    return {
      providers: rows.map((row) => toView(row, reports)),
      breakersKnown: reports !== undefined,
    };
  }

  private async readBreakers(ids: string[]): Promise<Map<string, BreakerStatus> | undefined> {
    const { breakers, breakerTimeoutMs = 2_000 } = this.options;
    if (!breakers) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), breakerTimeoutMs);
    });
    try {
      return await Promise.race([breakers(ids), timeout]);
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A `snake_case` name in `camelCase`, as the views spell the rows' columns. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

function camelized<Row extends object>(row: Row): Camelized<Row> {
  const fields = Object.entries(row as Record<string, unknown>).map(([name, value]) => [
    camelCase(name),
    value,
  ]);
  return Object.fromEntries(fields) as Camelized<Row>;
}

function toView(row: ProviderStatus, reports: Map<string, BreakerStatus> | undefined) {
  const { last_sync: sync, ...fields } = row;
  return {
    ...camelized(fields),
    lastSync: sync && camelized(sync),
    breaker: reports ? toBreakerView(reports.get(row.id)) : null,
  } satisfies ProviderStatusView;
}

/** A worker's report as operators see it; none means closed. */
export function toBreakerView(status: BreakerStatus | undefined): BreakerView {
  if (!status) return CLOSED;
  return {
    state: status.state,
    lastError: status.lastError ?? null,
    lastErrorAt: status.lastErrorAt ?? null,
    probeAt: status.state === 'open' ? (status.probeAt ?? null) : null,
    updatedAt: status.updatedAt || null,
  };
}

/**
 * The breaker in one line, the same in `providers list` and on the status page: its state, the
 * next probe while open, and the last error while not closed.
 */
export function describeBreaker(breaker: BreakerView | null): string {
  if (!breaker) return 'unknown (Redis unreachable)';
  if (breaker.state === 'closed') return 'closed';
  const probe = breaker.probeAt ? ` until ${breaker.probeAt}` : '';
  return `${breaker.state}${probe}${breaker.lastError ? `: ${breaker.lastError}` : ''}`;
}
