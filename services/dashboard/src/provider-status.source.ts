import type { ProviderRepository, SyncRunRepository } from '@marquee/db';
import type { BreakerStatus } from '@marquee/fetch';

export interface ProviderStatusRow {
  name: string;
  kind: string;
  enabled: boolean;
  everySeconds: number;
  lastSync: {
    status: string;
    trigger: string;
    startedAt: Date;
    finishedAt: Date | null;
    fetched: number;
    upserted: number;
    unchanged: number;
    rejected: number;
    error: string | null;
  } | null;
  /** As last reported by any worker; undefined when none has (or the store is unreachable). */
  breaker: BreakerStatus | undefined;
}

export interface ProviderStatusSourceOptions {
  providers: ProviderRepository;
  syncRuns: SyncRunRepository;
  /** Breaker statuses by provider id (the workers publish them in Redis). */
  breakers: (providerIds: readonly string[]) => Promise<Map<string, BreakerStatus>>;
}

/** Every provider with its latest sync run and breaker status, for the status page. */
export function providerStatusSource(options: ProviderStatusSourceOptions) {
  return async (): Promise<{ rows: ProviderStatusRow[]; breakersUnavailable: boolean }> => {
    const providers = await options.providers.list();
    const [runs, breakers] = await Promise.all([
      Promise.all(providers.map((provider) => options.syncRuns.latest(provider.id))),
      options.breakers(providers.map((provider) => provider.id)).then(
        (statuses) => statuses,
        () => undefined,
      ),
    ]);
    const rows = providers.map((provider, index): ProviderStatusRow => {
      const run = runs[index];
      return {
        name: provider.name,
        kind: provider.kind,
        enabled: provider.enabled,
        everySeconds: provider.everySeconds,
        lastSync: run
          ? {
              status: run.status,
              trigger: run.trigger,
              startedAt: run.startedAt,
              finishedAt: run.finishedAt,
              fetched: run.fetched,
              upserted: run.upserted,
              unchanged: run.unchanged,
              rejected: run.rejected,
              error: run.error,
            }
          : null,
        breaker: breakers?.get(provider.id),
      };
    });
    return { rows, breakersUnavailable: breakers === undefined };
  };
}
