import { Router } from 'express';
import type { ProviderStatusRepository } from '@marquee/db';
import {
  ProviderStatusReader,
  type BreakerReader,
  type ProviderStatusView,
} from '@marquee/provider-status';
import { sendJsonText } from './response.envelope.ts';

export type { BreakerReader };

export interface ProvidersRouterOptions {
  providers: ProviderStatusRepository;
  /** Without it (or when it fails) every `breaker` is null: unknown. */
  breakers?: BreakerReader | undefined;
}

/** `GET /v1/providers`: every provider with its last sync run; operators' view, behind a key. */
export function providersRouter({ providers, breakers }: ProvidersRouterOptions): Router {
  const router = Router();
  const reader = new ProviderStatusReader({ statuses: providers, breakers });
  router.get('/v1/providers', async (_req, res) => {
    const report = await reader.read();
    const list = report.providers.map(toApi);
    res.set('Cache-Control', 'private, no-cache');
    sendJsonText(res, 200, JSON.stringify({ data: { providers: list }, error: null }));
  });
  return router;
}

function toApi(view: ProviderStatusView) {
  const sync = view.lastSync;
  return {
    id: view.id,
    name: view.name,
    kind: view.kind,
    enabled: view.enabled,
    every_seconds: view.everySeconds,
    events: view.events,
    last_sync: sync && {
      status: sync.status,
      trigger: sync.trigger,
      started_at: sync.startedAt,
      finished_at: sync.finishedAt,
      upserted: sync.upserted,
      unchanged: sync.unchanged,
      rejected: sync.rejected,
      error: sync.error,
    },
    breaker: view.breaker && {
      state: view.breaker.state,
      last_error: view.breaker.lastError,
      probe_at: view.breaker.probeAt,
    },
  };
}
