import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import { parse } from 'yaml';
import { SyncRunRepository } from '@marquee/db';
import { eventId } from '@marquee/event-model';
import { createProvider, record, startApi, type ApiFixture } from './api.fixture.ts';

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  required: boolean;
  description?: string;
  schema: Json;
}

interface Operation {
  summary: string;
  parameters?: Parameter[];
  security?: unknown;
  responses: Record<string, { content?: Record<string, { schema: Json }> }>;
}

interface Document {
  openapi: string;
  paths: Record<string, { get: Operation }>;
  components: Json & { schemas: Record<string, { properties?: Json; required?: string[] }> };
}

interface FeverDocument {
  components: Json & { schemas: Record<string, { required?: string[] }> };
  paths: Record<
    string,
    { get: { responses: Record<string, { content: Record<string, { schema: Json }> }> } }
  >;
}

const get = (document: Document, path: string): Operation => document.paths[path]!.get;

let api: ApiFixture;
let document: Document;
let ajv: Ajv2020;

beforeAll(async () => {
  api = await startApi('openapi');
  const provider = await createProvider(api, 'doc', 'Europe/Madrid');
  await api.events.upsertMany(
    provider,
    [
      record({ externalKey: '1' }),
      record({ externalKey: '2', minPrice: null, maxPrice: null, endsAt: null }),
      record({
        externalKey: '3',
        venue: {
          name: 'Hall',
          address: 'Main St 1',
          city: 'Madrid',
          country: 'ES',
          lat: 1,
          lon: 2,
        },
        status: 'scheduled',
        url: 'https://example.org/3',
      }),
    ],
    new Date(),
  );
  const runs = new SyncRunRepository(api.db);
  await runs.fail((await runs.start(provider.id, 'schedule', undefined)).id, 'HTTP 500');
  // A rate-limited provider: its last run waits, with the time its job resumes.
  const limited = await createProvider(api, 'limited', 'Europe/Madrid');
  await runs.wait(
    (await runs.start(limited.id, 'schedule', 'job-1')).id,
    'HTTP 429 Too Many Requests; retry after 30000 ms',
    new Date(Date.now() + 30_000),
  );

  const response = await api.get('/openapi.json');
  expect(response.status).toBe(200);
  document = (await response.json()) as Document;
  ajv = new Ajv2020({ strict: false, allErrors: true });
  ajvFormats.default(ajv);
  ajv.addSchema({ $id: 'openapi', components: document.components }, 'openapi');
});

afterAll(async () => {
  await api.close();
});

/** Checks a real answer against what the document promises for that operation and status. */
async function conforms(path: string, operation: string, status: number): Promise<void> {
  const response = await api.get(path);
  expect({ path, status: response.status }).toEqual({ path, status });
  const schema = get(document, operation).responses[String(status)]?.content?.['application/json']
    ?.schema as { $ref: string } | undefined;
  expect({ path, status, declared: schema !== undefined }).toEqual({
    path,
    status,
    declared: true,
  });
  const validate = ajv.getSchema(`openapi${schema!.$ref}`);
  expect(validate).toBeDefined();
  const body: unknown = await response.json();
  const valid = validate!(body);
  expect({ path, errors: valid ? null : validate!.errors }).toEqual({ path, errors: null });
}

describe('/openapi.json', () => {
  it('is an OpenAPI 3.1 document covering every endpoint', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual(
      [
        '/healthz',
        '/readyz',
        '/search',
        '/v1/events/search',
        '/v1/events/{id}',
        '/v1/providers',
        '/v1/changes',
      ].sort(),
    );
    const v1 = get(document, '/v1/events/search').parameters ?? [];
    expect(v1.map((parameter) => parameter.name)).toEqual([
      'starts_at',
      'ends_at',
      'overlap',
      'provider',
      'q',
      'city',
      'country',
      'performer',
      'status',
      'min_price',
      'max_price',
      'limit',
      'cursor',
    ]);
    expect(v1.every((parameter) => parameter.required === false)).toBe(true);
    // Every parameter schema compiles as JSON Schema 2020-12.
    for (const parameter of v1) ajv.compile(parameter.schema);
    expect(get(document, '/v1/providers').security).toEqual([{ apiKey: [] }]);
  });

  it('resolves every reference inside the document, with no $id to rebase them', () => {
    const text = JSON.stringify(document);
    expect(text).not.toContain('"$id"');
    const refs = [...text.matchAll(/"\$ref":"([^"]+)"/g)].map((match) => match[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of new Set(refs)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect({ ref, found: ref.split('/').pop()! in document.components.schemas }).toEqual({
        ref,
        found: true,
      });
    }
  });

  it('documents the page size bounds from the schema that enforces them', () => {
    const operation = get(document, '/v1/events/search');
    const limit = operation.parameters?.find((parameter) => parameter.name === 'limit');
    expect(limit?.description).toBe('Page size: an integer from 1 to 1000; default 100.');
    expect(operation.summary).toContain('1000 at most');
  });

  it('describes the real answers of every endpoint', async () => {
    await conforms('/search', '/search', 200);
    await conforms('/search?starts_at=2099-01-01', '/search', 200);
    await conforms('/search?starts_at=nope', '/search', 400);
    await conforms('/v1/events/search?limit=2', '/v1/events/search', 200);
    await conforms('/v1/events/search?limit=0', '/v1/events/search', 400);
    await conforms(`/v1/events/${eventId('doc', '3')}`, '/v1/events/{id}', 200);
    await conforms(`/v1/events/${eventId('doc', '2')}`, '/v1/events/{id}', 200);
    await conforms('/v1/events/unknown', '/v1/events/{id}', 404);
    await conforms('/v1/providers', '/v1/providers', 200);
    await conforms('/v1/changes?limit=3', '/v1/changes', 200);
    await conforms('/v1/changes?after=nope', '/v1/changes', 400);
  });

  it('rejects an answer that breaks it (the check can fail)', () => {
    const validate = ajv.getSchema('openapi#/components/schemas/SearchResponse')!;
    expect(validate({ data: { events: [{ id: 'x' }] }, error: null })).toBe(false);
  });
});

describe('/search and the Fever contract', () => {
  it('answers bodies that validate against the Fever openapi.yaml', async () => {
    const fever = parse(
      await readFile(new URL('../../../test/fixtures/fever/openapi.yaml', import.meta.url), 'utf8'),
    ) as FeverDocument;
    // The Fever document is OpenAPI 3.0: draft-07-like with `nullable`.
    const ajv07 = new Ajv({ strict: false, allErrors: true });
    ajvFormats.default(ajv07);
    // Fever's local times carry no offset (its own example is "22:38:19"); ajv-formats' `time`
    // is RFC 3339's full-time, which requires one.
    ajv07.addFormat('time', /^(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d$/);
    ajv07.addSchema({ $id: 'fever', components: fever.components }, 'fever');
    const declared = fever.paths['/search']!.get.responses['200']!.content['application/json']!
      .schema as { properties: { error: Json } };
    const validate = ajv07.compile({
      ...declared,
      // The same reference, made absolute: this schema is compiled apart from the document.
      properties: { ...declared.properties, data: { $ref: 'fever#/components/schemas/EventList' } },
    });
    const response = await api.get('/search');
    const body: unknown = await response.json();
    expect(validate(body) ? null : validate.errors).toBeNull();
    const ours = document.components.schemas.EventSummary!;
    const theirs = fever.components.schemas.EventSummary!;
    expect(Object.keys(ours.properties ?? {})).toEqual(theirs.required);
    expect(ours.required).toEqual(theirs.required);
  });
});

describe('/docs', () => {
  it('serves Swagger UI from this process, with no external script', async () => {
    const page = await api.get('/docs');
    expect(page.status).toBe(200);
    const html = await page.text();
    const scripts = [...html.matchAll(/src="([^"]+)"/g)].map((match) => match[1]!);
    expect(scripts).toEqual(['/docs/swagger-ui-bundle.js', '/docs/init.js']);
    for (const script of [...scripts, '/docs/swagger-ui.css']) {
      const asset = await api.get(script);
      expect({ script, status: asset.status }).toEqual({ script, status: 200 });
      await asset.arrayBuffer();
    }
    expect(await (await api.get('/docs/init.js')).text()).toContain("url: '/openapi.json'");
  });
});
