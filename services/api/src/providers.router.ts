import { Router } from 'express';
import { z } from 'zod';
import type { ProviderStatusRepository } from '@marquee/db';
import { camelCase, ProviderStatusReader, type BreakerReader } from '@marquee/provider-status';
import { sendJsonText } from './response.envelope.ts';
import { providerStatusSchema } from './response.schema.ts';

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
    const list = report.providers.map((view) => fromView(providerStatusSchema, view));
    res.set('Cache-Control', 'private, no-cache');
    sendJsonText(res, 200, JSON.stringify({ data: { providers: list }, error: null }));
  });
  return router;
}

/**
 * The fields the response schema names, each read from the view by its camelCase name: the API
 * answers exactly what its document describes, in the same order.
 */
function fromView(schema: z.ZodObject, view: object): Record<string, unknown> {
  const answer: Record<string, unknown> = {};
  for (const [name, field] of Object.entries<z.ZodType>(schema.shape)) {
    const value: unknown = (view as Record<string, unknown>)[camelCase(name)];
    const inner = field instanceof z.ZodNullable ? (field.unwrap() as z.ZodType) : field;
    const nested = inner instanceof z.ZodObject && typeof value === 'object' && value !== null;
    answer[name] = nested ? fromView(inner, value) : value;
  }
  return answer;
}
