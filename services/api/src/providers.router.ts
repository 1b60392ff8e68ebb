import { Router } from 'express';
import type { ProviderStatusRepository } from '@marquee/db';
import { sendJsonText } from './response.envelope.ts';

/** A worker-reported circuit breaker, as `readBreakerStatuses` of @marquee/queue returns it. */
interface BreakerReport {
  state: 'closed' | 'open' | 'halfOpen';
  lastError?: string;
  probeAt?: string;
}

/** Breaker reports by provider id; a provider without one has a closed breaker. */
export type BreakerReader = (providerIds: readonly string[]) => Promise<Map<string, BreakerReport>>;

export interface ProvidersRouterOptions {
  providers: ProviderStatusRepository;
  /** Without it (or when it fails) every `breaker` is null: unknown. */
  breakers?: BreakerReader | undefined;
}

/** `GET /v1/providers`: every provider with its last sync run; operators' view, behind a key. */
export function providersRouter({ providers, breakers }: ProvidersRouterOptions): Router {
  const router = Router();
  router.get('/v1/providers', async (_req, res) => {
    const rows = await providers.list();
    // Breakers live in Redis: their absence degrades this answer, never fails it.
    const reports = await breakers?.(rows.map((row) => row.id)).catch(() => undefined);
    const list = rows.map((row) => {
      const report = reports?.get(row.id);
      return {
        ...row,
        breaker: reports
          ? {
              state: report?.state ?? 'closed',
              last_error: report?.lastError ?? null,
              probe_at: report?.probeAt ?? null,
            }
          : null,
      };
    });
    res.set('Cache-Control', 'private, no-cache');
    sendJsonText(res, 200, JSON.stringify({ data: { providers: list }, error: null }));
  });
  return router;
}
