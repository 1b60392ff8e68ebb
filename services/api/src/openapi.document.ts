import { z } from 'zod';
import {
  changesPageResponseSchema,
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
  changesQuerySchema,
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
named.add(changesPageResponseSchema, { id: 'ChangesPage' });

/** A schema as a component or a parameter: without `$schema`, and without `$id`, which would
 * make every `$ref` inside it resolve against that id (Swagger UI then cannot find them). */
function embeddable(schema: JsonSchema): JsonSchema {
  const rest = { ...schema };
  delete rest.$schema;
  delete rest.$id;
  return rest;
}

function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(named, {
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => [id, embeddable(schema)]),
  );
}

/** Query parameters from an object schema's shape: what a client may send (the input side). */
function queryParameters(shape: Record<string, z.ZodType>): JsonSchema[] {
  return Object.entries(shape).map(([name, field]) => {
    const schema = embeddable(z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' }));
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

const errorResponse = (description: string, headers?: JsonSchema) => ({
  ...json(REF('Error'), description),
  ...(headers ? { headers } : {}),
});

const retryAfter = {
  'Retry-After': {
    description: 'Seconds to wait before trying again.',
    schema: { type: 'integer', minimum: 1 },
  },
};

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

/** What any request may be refused with before it reaches its endpoint. */
const requestErrors = {
  '400': errorResponse('More than 20 query parameters (too_many_parameters), or malformed HTTP.'),
  '413': errorResponse('A request body was sent (none is accepted).'),
  '414': errorResponse('Query string over 2 KB (query_too_long).'),
  '431': errorResponse('Request headers over the server limit (headers_too_large).'),
};

/** And what a rate-limited endpoint that reads the catalog may answer. */
const catalogErrors = {
  ...requestErrors,
  '401': errorResponse('X-API-Key sent but unknown or revoked (invalid_api_key).'),
  '429': errorResponse(
    'Over the quota (rate_limited); retry after Retry-After seconds.',
    retryAfter,
  ),
  '500': errorResponse('Unexpected failure (internal).'),
  '503': errorResponse(
    'The catalog is unreachable and no cached answer exists (unavailable); retry after Retry-After seconds.',
    retryAfter,
  ),
};

const notModified = { description: 'Unchanged since the ETag sent in If-None-Match.' };

/** Public endpoints: anonymous (per-IP quota) or with a key (the key's quota). */
const PUBLIC = [{}, { apiKey: [] }];

/** Operator endpoints: a key is required; what they may answer beyond the catalog's errors. */
const KEY_REQUIRED = [{ apiKey: [] }];
const keyRequiredErrors = {
  ...catalogErrors,
  '401': errorResponse('Missing (api_key_required), unknown or revoked (invalid_api_key) key.'),
};

interface OperationSpec {
  operationId: string;
  tag: string;
  summary: string;
  /** Only where it differs from the document's (PUBLIC). */
  security?: JsonSchema[];
  parameters?: JsonSchema[];
  responses: JsonSchema;
}

function operation({ operationId, tag, summary, security, parameters, responses }: OperationSpec) {
  return {
    operationId,
    tags: [tag],
    summary,
    ...(security && { security }),
    ...(parameters && { parameters }),
    responses,
  };
}

/** A public, cached search: its query's parameters, a 200 with cache headers, a 304 and its 400. */
function cachedSearch(
  spec: Pick<OperationSpec, 'operationId' | 'tag' | 'summary'> & {
    query: z.ZodObject;
    ok: { schema: string; description: string };
    badRequest: string;
  },
) {
  const { query, ok, badRequest, ...named } = spec;
  return operation({
    ...named,
    parameters: queryParameters(query.shape),
    responses: {
      ...catalogErrors,
      '200': { ...json(REF(ok.schema), ok.description), headers: cachedHeaders },
      '304': notModified,
      '400': errorResponse(badRequest),
    },
  });
}

const searchOperation = () =>
  cachedSearch({
    operationId: 'searchEvents',
    tag: 'search',
    summary: 'Events inside a time window (the Fever contract)',
    query: searchQuerySchema,
    ok: { schema: 'SearchResponse', description: 'The events, by start.' },
    badRequest: 'Bad parameter (invalid_parameter, invalid_range, too_many_parameters).',
  });

const eventsSearchOperation = () =>
  cachedSearch({
    operationId: 'searchEventsPage',
    tag: 'events',
    summary: `Events with filters, ${MAX_PAGE_SIZE} at most per page, cursor paging`,
    query: eventsSearchQuerySchema,
    ok: { schema: 'EventsPage', description: 'One page, by (start, id).' },
    badRequest:
      'Bad or unknown parameter (invalid_parameter, invalid_range, invalid_cursor, too_many_parameters).',
  });

const eventOperation = () =>
  operation({
    operationId: 'getEvent',
    tag: 'events',
    summary: 'One event with its sources',
    parameters: [
      { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
    ],
    responses: {
      ...catalogErrors,
      '200': json(REF('EventDetail'), 'The event.'),
      '404': errorResponse('No such event (not_found).'),
    },
  });

const providersOperation = () =>
  operation({
    operationId: 'listProviders',
    tag: 'providers',
    summary: 'Every provider with its last sync run',
    security: KEY_REQUIRED,
    responses: {
      ...keyRequiredErrors,
      '200': json(REF('Providers'), 'The providers, by name.'),
    },
  });

const changesOperation = () =>
  operation({
    operationId: 'listChanges',
    tag: 'changes',
    summary: 'Every change of the catalog, in order, resumable exactly (docs/changes.md)',
    security: KEY_REQUIRED,
    parameters: queryParameters(changesQuerySchema.shape),
    responses: {
      ...keyRequiredErrors,
      '200': json(REF('ChangesPage'), 'The next changes after `after`, oldest first.'),
      '400': errorResponse('Bad or unknown parameter (invalid_parameter, invalid_cursor).'),
      '410': errorResponse(
        'The cursor is older than the retention (cursor_expired): copy the catalog again.',
      ),
    },
  });

const probeStatus = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'degraded', 'unavailable'] },
    checks: {
      type: 'object',
      properties: {
        database: { type: 'string', enum: ['up', 'down'] },
        redis: { type: 'string', enum: ['up', 'down'] },
      },
    },
  },
};

/** A probe: no key, and only what any request may be refused with besides its own answers. */
const probe = (spec: Pick<OperationSpec, 'operationId' | 'summary'>, responses: JsonSchema) =>
  operation({
    ...spec,
    tag: 'health',
    security: [],
    responses: { ...requestErrors, ...responses },
  });

const healthOperation = () =>
  probe(
    { operationId: 'health', summary: 'Liveness' },
    {
      '200': json({ type: 'object', properties: { status: { const: 'ok' } } }, 'The process runs.'),
    },
  );

const readyOperation = () =>
  probe(
    { operationId: 'ready', summary: 'Readiness: PostgreSQL needed, Redis optional' },
    {
      '200': json(probeStatus, 'Ready, or degraded (Redis down: answers come from PostgreSQL).'),
      '503': json(probeStatus, 'PostgreSQL unreachable.'),
    },
  );

const INFO = {
  title: 'Marquee API',
  version: '1.0.0',
  description:
    'Event listings from many providers. `/search` follows the Fever contract; `/v1/*` adds ' +
    'filters, paging and single events. Public endpoints are rate limited per IP; an API ' +
    'key (X-API-Key) raises the quota and is required for `/v1/providers` and `/v1/changes`. Every error is ' +
    'the envelope `{"data":null,"error":{"code","message"}}`.',
  license: { name: 'MIT', identifier: 'MIT' },
};

const TAGS = [
  { name: 'search', description: 'The Fever contract: events in a time window.' },
  { name: 'events', description: 'Filtered, paged search and single events.' },
  { name: 'providers', description: 'Where events come from (needs an API key).' },
  { name: 'changes', description: 'The change feed (needs an API key).' },
  { name: 'health', description: 'Probes for load balancers and orchestrators.' },
];

/**
 * The document. `servers` is this API itself (a relative URL), so it is right under whatever
 * host name and scheme it is reached by.
 */
export function buildOpenApiDocument(): JsonSchema {
  return {
    openapi: '3.1.0',
    info: INFO,
    servers: [{ url: '/', description: 'The server this document was read from.' }],
    tags: TAGS,
    security: PUBLIC,
    components: {
      schemas: componentSchemas(),
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
    },
    paths: {
      '/search': { get: searchOperation() },
      '/v1/events/search': { get: eventsSearchOperation() },
      '/v1/events/{id}': { get: eventOperation() },
      '/v1/providers': { get: providersOperation() },
      '/v1/changes': { get: changesOperation() },
      '/healthz': { get: healthOperation() },
      '/readyz': { get: readyOperation() },
    },
  };
}
