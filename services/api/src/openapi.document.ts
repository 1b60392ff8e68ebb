import { z } from 'zod';
import {
  errorEnvelopeSchema,
  eventDetailResponseSchema,
  eventSchema,
  eventsPageResponseSchema,
  eventSummarySchema,
  providersResponseSchema,
  providerStatusSchema,
  searchResponseSchema,
} from './response.schema.ts';
import {
  eventsSearchQuerySchema,
  MAX_PAGE_SIZE,
  searchQuerySchema,
} from './search-query.schema.ts';

/*
 * The OpenAPI 3.1 document, generated from the zod schemas that validate the queries and describe
 * the answers, so the document cannot drift from the code. OpenAPI 3.1 speaks JSON Schema 2020-12,
 * zod's default target.
 */

type JsonSchema = Record<string, unknown>;

const REF = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** Named response schemas: the document refers to each by name. */
const named = z.registry<{ id: string }>();
named.add(errorEnvelopeSchema, { id: 'Error' });
named.add(eventSummarySchema, { id: 'EventSummary' });
named.add(searchResponseSchema, { id: 'SearchResponse' });
named.add(eventSchema, { id: 'Event' });
named.add(eventsPageResponseSchema, { id: 'EventsPage' });
named.add(eventDetailResponseSchema, { id: 'EventDetail' });
named.add(providerStatusSchema, { id: 'ProviderStatus' });
named.add(providersResponseSchema, { id: 'Providers' });

function withoutDialect(schema: JsonSchema): JsonSchema {
  const rest = { ...schema };
  delete rest.$schema;
  return rest;
}

/** Query parameters from an object schema's shape: what a client may send (the input side). */
function queryParameters(shape: Record<string, z.ZodType>): JsonSchema[] {
  return Object.entries(shape).map(([name, field]) => {
    const schema = withoutDialect(z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' }));
    const { description, ...rest } = schema;
    return {
      name,
      in: 'query',
      required: !field.safeParse(undefined).success,
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
    };
  });
}

const json = (schema: JsonSchema, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const errorResponse = (description: string) => json(REF('Error'), description);

const cachedHeaders = {
  ETag: {
    description: 'Validator of the body; send it back in If-None-Match.',
    schema: { type: 'string' },
  },
  'Cache-Control': { schema: { type: 'string' } },
  'X-Cache': {
    description: 'hit, miss, bypass (cache unavailable) or stale (catalog unavailable).',
    schema: { type: 'string', enum: ['hit', 'miss', 'bypass', 'stale'] },
  },
};

const rateLimited = {
  description: 'Over the quota; retry after Retry-After seconds.',
  headers: { 'Retry-After': { schema: { type: 'integer' } } },
  content: { 'application/json': { schema: REF('Error') } },
};

const commonErrors = {
  '400': errorResponse('More than 20 query parameters (too_many_parameters).'),
  '401': errorResponse('X-API-Key sent but unknown or revoked (invalid_api_key).'),
  '413': errorResponse('A request body was sent (none is accepted).'),
  '414': errorResponse('Query string over 2 KB (query_too_long).'),
  '429': rateLimited,
  '500': errorResponse('Unexpected failure.'),
};

export function buildOpenApiDocument(): JsonSchema {
  const { schemas } = z.toJSONSchema(named, {
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  const components = Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => [id, withoutDialect(schema)]),
  );

  return {
    openapi: '3.1.0',
    info: {
      title: 'Marquee API',
      version: '1.0.0',
      description:
        'Event listings from many providers. `/search` follows the Fever contract; `/v1/*` adds ' +
        'filters, paging and single events. Public endpoints are rate limited per IP; an API ' +
        'key (X-API-Key) raises the quota and is required for `/v1/providers`.',
    },
    components: {
      schemas: components,
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
    },
    paths: {
      '/search': {
        get: {
          operationId: 'searchEvents',
          summary: 'Events inside a time window (the Fever contract)',
          parameters: queryParameters(searchQuerySchema.shape),
          responses: {
            ...commonErrors,
            '200': {
              ...json(REF('SearchResponse'), 'The events, by start.'),
              headers: cachedHeaders,
            },
            '304': { description: 'Unchanged since the ETag sent in If-None-Match.' },
            '400': errorResponse('Bad parameter.'),
          },
        },
      },
      '/v1/events/search': {
        get: {
          operationId: 'searchEventsPage',
          summary: `Events with filters, ${MAX_PAGE_SIZE} at most per page, cursor paging`,
          parameters: queryParameters(eventsSearchQuerySchema.shape),
          responses: {
            ...commonErrors,
            '200': {
              ...json(REF('EventsPage'), 'One page, by (start, id).'),
              headers: cachedHeaders,
            },
            '304': { description: 'Unchanged since the ETag sent in If-None-Match.' },
            '400': errorResponse('Bad or unknown parameter.'),
          },
        },
      },
      '/v1/events/{id}': {
        get: {
          operationId: 'getEvent',
          summary: 'One event with its sources',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
          ],
          responses: {
            ...commonErrors,
            '200': json(REF('EventDetail'), 'The event.'),
            '404': errorResponse('No such event.'),
          },
        },
      },
      '/v1/providers': {
        get: {
          operationId: 'listProviders',
          summary: 'Every provider with its last sync run',
          security: [{ apiKey: [] }],
          responses: {
            ...commonErrors,
            '200': json(REF('Providers'), 'The providers, by name.'),
            '401': errorResponse('Missing, unknown or revoked API key.'),
          },
        },
      },
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness',
          responses: { '200': json({ type: 'object' }, 'The process runs.') },
        },
      },
      '/readyz': {
        get: {
          operationId: 'ready',
          summary: 'Readiness: PostgreSQL needed, Redis optional',
          responses: {
            '200': json({ type: 'object' }, 'Ready or degraded.'),
            '503': json({ type: 'object' }, 'PostgreSQL unreachable.'),
          },
        },
      },
    },
  };
}
