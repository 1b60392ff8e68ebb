// Every service as its own process (the entry points the images run), scraped over HTTP: each one
// serves /healthz, /readyz and /metrics; a real sync and real searches move the counters they
// should; the api with two cluster workers answers each scrape with both processes' totals; and
// every metric the Grafana dashboard and the alert rules query is one the services export.
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createDb, ProviderRepository } from '@marquee/db';
import {
  createTestDatabase,
  eventually,
  feverFixture,
  feverProvider,
  freePort,
  REPO_ROOT,
  removeQueue,
  startFeedServer,
  startService,
  uniquePrefix,
  type FeedServer,
  type LongRunning,
  type TestDatabase,
} from '@marquee/testing';
import { render, RELEASE_VERSION } from './manifests/manifests.helpers.ts';

const SERVICES = ['api', 'worker', 'scheduler', 'dashboard'] as const;
type Service = (typeof SERVICES)[number];

const TOKEN = 'metrics-test-dashboard-token';
let database: TestDatabase;
let feed: FeedServer;
const prefix = uniquePrefix('metrics');
const processes = new Map<Service, LongRunning>();
const urls = {} as Record<Service, string>;

beforeAll(async () => {
  database = await createTestDatabase('metrics');
  const xml = feverFixture('response_1.xml');
  feed = await startFeedServer((request, response) => {
    // A feed that is gone: a permanent failure, its job goes to the failed set at once.
    if (request.url === '/gone.xml') response.writeHead(404).end();
    else response.writeHead(200, { 'content-type': 'application/xml' }).end(xml);
  });
  const db = createDb({ databaseUrl: database.url, maxConnections: 1 });
  const providers = new ProviderRepository(db);
  for (const [name, path, everySeconds] of [
    ['fever-metrics', 'feed.xml', 3600],
    ['fever-gone', 'gone.xml', 1800],
  ] as const) {
    await providers.create(
      feverProvider(name, `${feed.url}/${path}`, { everySeconds, timezone: 'Europe/Madrid' }),
    );
  }
  await db.$disconnect();

  const ports = {} as Record<Service, number>;
  for (const service of SERVICES) ports[service] = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: database.url,
    REDIS_URL: 'redis://127.0.0.1:6379/0',
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    ALLOW_PRIVATE_PROVIDERS: 'true',
    SHUTDOWN_TIMEOUT_MS: '3000',
  };
  const own: Record<Service, NodeJS.ProcessEnv> = {
    // Two node:cluster workers: each scrape must still report both processes' totals.
    api: { API_PORT: String(ports.api), API_HOST: '127.0.0.1', API_WORKERS: '2' },
    worker: { METRICS_PORT: String(ports.worker) },
    scheduler: { METRICS_PORT: String(ports.scheduler) },
    dashboard: { DASHBOARD_PORT: String(ports.dashboard), DASHBOARD_TOKEN: TOKEN },
  };
  for (const service of SERVICES) {
    processes.set(service, startService(service, { ...env, ...own[service] }));
    urls[service] = `http://127.0.0.1:${ports[service]}`;
  }
});

afterAll(async () => {
  await Promise.all([...processes.values()].map((child) => child.stop()));
  await removeQueue(prefix);
  await feed.close();
  await database.drop();
});

const output = () =>
  [...processes].map(([service, child]) => `--- ${service}\n${child.output()}`).join('\n');

async function scrape(service: Service): Promise<string> {
  const response = await fetch(`${urls[service]}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The value of one exposition line, by metric name and its exact label set. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2]!.split(/,(?=\w+=")/).sort();
    if (wanted.every((label) => have.includes(label)) && have.length === wanted.length)
      return Number(match[3]);
  }
  return undefined;
}

/** Metric names a scrape declares (`# TYPE`), with the series names histograms add. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    const [, name, type] = match;
    names.add(name!);
    if (type === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

/** A GET on a connection of its own: node:cluster hands each new connection to the next worker. */
function getOnNewConnection(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** What marquee_build_info says of a process running the sources. */
const BUILD = { version: RELEASE_VERSION, revision: 'source', node: process.version };

describe('every service over HTTP', () => {
  it('answers /healthz and /readyz (Postgres and Redis reachable) and serves /metrics', async () => {
    for (const service of SERVICES) {
      await eventually(
        async () => ((await fetch(`${urls[service]}/healthz`)).ok ? true : undefined),
        // Six processes start at once under tsx (the api is three: a primary and two workers),
        // each compiling its sources: on a loaded 2-core machine that takes a while.
        60_000,
        () => `${service} /healthz\n${output()}`,
      );
      // Readiness may lag liveness while the first connections open (a busy 2-core machine); the
      // api reports 200 "degraded" until its Redis connection is up, so wait for both checks.
      const body = await eventually(
        async () => {
          const response = await fetch(`${urls[service]}/readyz`);
          const json = (await response.json()) as { checks: Record<string, string> };
          return response.status === 200 &&
            Object.values(json.checks).every((state) => state === 'up')
            ? json
            : undefined;
        },
        20_000,
        () => `${service} /readyz\n${output()}`,
      );
      expect({ service, checks: body.checks }).toEqual({
        service,
        checks: { database: 'up', redis: 'up' },
      });
      const text = await scrape(service);
      expect(text).toContain(`marquee_process_resident_memory_bytes{service="${service}"}`);
    }
  }, 150_000);

  it('worker: a real sync counts its events per provider and times the sync and the job', async () => {
    // The scheduler's Job Scheduler runs the first sync at once.
    const text = await eventually(
      async () => {
        const scraped = await scrape('worker');
        return sample(scraped, 'marquee_sync_duration_seconds_count', {
          provider: 'fever-metrics',
          outcome: 'succeeded',
          service: 'worker',
        }) === 1
          ? scraped
          : undefined;
      },
      45_000,
      () => `a finished sync in the worker's metrics\n${output()}`,
    );
    const provider = { provider: 'fever-metrics', service: 'worker' };
    const fetched = sample(text, 'marquee_provider_events_fetched_total', provider);
    const upserted = sample(text, 'marquee_provider_events_upserted_total', provider);
    expect(fetched).toBeGreaterThan(0);
    expect(upserted).toBeGreaterThan(0);
    expect(sample(text, 'marquee_provider_events_unchanged_total', provider)).toBe(0);
    expect(sample(text, 'marquee_provider_events_rejected_total', provider)).toBeGreaterThanOrEqual(
      0,
    );
    expect(
      sample(text, 'marquee_job_duration_seconds_count', {
        queue: 'ingest',
        name: 'provider.sync',
        status: 'completed',
        service: 'worker',
      }),
    ).toBe(1);
    expect(text).toMatch(/^# TYPE marquee_breaker_state gauge$/m);
  });

  it('every service: marquee_build_info{version,revision,node} 1', async () => {
    for (const service of SERVICES) {
      const value = sample(await scrape(service), 'marquee_build_info', { ...BUILD, service });
      expect({ service, value }).toEqual({ service, value: 1 });
    }
  });

  it('worker: a sync that fails for good counts as a dead letter of its provider', async () => {
    const deadLetters = (text: string, provider: string) =>
      sample(text, 'marquee_dead_letters_total', { queue: 'ingest', provider, service: 'worker' });
    const text = await eventually(
      async () => {
        const scraped = await scrape('worker');
        return deadLetters(scraped, 'fever-gone') === 1 ? scraped : undefined;
      },
      45_000,
      () => `fever-gone's dead letter in the worker's metrics\n${output()}`,
    );
    expect(deadLetters(text, 'fever-metrics')).toBeUndefined();
  });

  it('scheduler: last success and interval of each enabled provider, read from PostgreSQL', async () => {
    const db = createDb({ databaseUrl: database.url, maxConnections: 1 });
    try {
      const run = await eventually(
        async () =>
          (await db.syncRun.findFirst({
            where: { status: 'succeeded', provider: { name: 'fever-metrics' } },
          })) ?? undefined,
        45_000,
        "fever-metrics' successful sync run",
      );
      const text = await scrape('scheduler');
      const of = (name: string, provider: string) =>
        sample(text, name, { provider, service: 'scheduler' });
      expect(of('marquee_provider_interval_seconds', 'fever-metrics')).toBe(3600);
      expect(of('marquee_provider_interval_seconds', 'fever-gone')).toBe(1800);
      expect(of('marquee_provider_last_success_timestamp_seconds', 'fever-metrics')).toBeCloseTo(
        run.finishedAt!.getTime() / 1000,
        3,
      );
      // Never succeeded: an interval and no last success (an alert of its own).
      expect(of('marquee_provider_last_success_timestamp_seconds', 'fever-gone')).toBeUndefined();
    } finally {
      await db.$disconnect();
    }
  });

  it('api with API_WORKERS=2: every scrape shows the totals of both processes', async () => {
    const requests = 20;
    for (let index = 0; index < requests; index += 1) {
      expect((await getOnNewConnection(`${urls.api}/openapi.json`)).status).toBe(200);
    }
    // Scrapes on new connections too: they reach one worker, then the other.
    const route = { service: 'api', method: 'GET', route: '/openapi.json', status_code: '200' };
    for (let index = 0; index < 4; index += 1) {
      const { body } = await getOnNewConnection(`${urls.api}/metrics`);
      expect(sample(body, 'marquee_http_request_duration_seconds_count', route)).toBe(requests);
      // Facts about the process are not added up.
      expect(sample(body, 'marquee_build_info', { ...BUILD, service: 'api' })).toBe(1);
    }
  });

  it('api: request durations by route pattern and status, cache outcomes by route', async () => {
    const query = '/search?starts_at=2021-02-01T00:00:00Z&ends_at=2022-07-03T00:00:00Z';
    const first = await fetch(`${urls.api}${query}`);
    const second = await fetch(`${urls.api}${query}`);
    expect([first.status, second.status]).toEqual([200, 200]);
    const outcomes = [first.headers.get('x-cache'), second.headers.get('x-cache')];
    expect(outcomes[1]).toBe('hit');
    expect((await fetch(`${urls.api}/nope/12345`)).status).toBe(404);
    expect((await fetch(`${urls.api}/search?starts_at=yesterday`)).status).toBe(400);

    const text = await scrape('api');
    const api = { service: 'api' };
    expect(
      sample(text, 'marquee_http_request_duration_seconds_count', {
        ...api,
        method: 'GET',
        route: '/search',
        status_code: '200',
      }),
    ).toBe(2);
    expect(
      sample(text, 'marquee_http_request_duration_seconds_count', {
        ...api,
        method: 'GET',
        route: '/search',
        status_code: '400',
      }),
    ).toBe(1);
    expect(
      sample(text, 'marquee_http_request_duration_seconds_count', {
        ...api,
        method: 'GET',
        route: '(unmatched)',
        status_code: '404',
      }),
    ).toBe(1);
    // Never the raw URL: no query strings, no unknown paths.
    expect(text).not.toContain('12345');
    expect(text).not.toContain('starts_at');
    for (const outcome of new Set(outcomes)) {
      expect(
        sample(text, 'marquee_cache_requests_total', {
          ...api,
          route: '/search',
          outcome: outcome!,
        }),
      ).toBe(outcomes.filter((candidate) => candidate === outcome).length);
    }
  });

  it('scheduler and dashboard: queue depth by state, read from Redis on scrape', async () => {
    const redis = new Redis('redis://127.0.0.1:6379/0');
    const queue = new Queue('ingest', { connection: redis, prefix });
    await queue.add(
      'provider.sync',
      { providerId: '00000000-0000-4000-8000-000000000000', trigger: 'manual' },
      {
        delay: 3_600_000,
        jobId: 'metrics-delayed',
      },
    );
    // Due within the 30 s window: counted as `due` as well as `delayed`.
    await queue.add(
      'provider.sync',
      { providerId: '00000000-0000-4000-8000-000000000000', trigger: 'manual' },
      { delay: 20_000, jobId: 'metrics-due' },
    );
    try {
      for (const service of ['scheduler', 'dashboard'] as const) {
        const text = await scrape(service);
        const depth = (state: string) =>
          sample(text, 'marquee_queue_jobs', { queue: 'ingest', state, service });
        expect(depth('due')).toBeGreaterThanOrEqual(1);
        expect(depth('delayed')).toBeGreaterThanOrEqual(depth('due')! + 1);
        for (const state of ['waiting', 'active', 'delayed', 'failed']) {
          expect(sample(text, 'marquee_queue_jobs', { queue: 'ingest', state, service })).toEqual(
            expect.any(Number),
          );
        }
        expect(
          sample(text, 'marquee_queue_jobs', { queue: 'ingest', state: 'delayed', service }),
        ).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await queue.remove('metrics-delayed');
      await queue.remove('metrics-due');
      await queue.close();
      await redis.quit();
    }
  });
});

/** `panel: name` for every metric an expression names that `exported` lacks. */
function unknownMetrics(
  expressions: readonly { panel: string; expr: string }[],
  exported: ReadonlySet<string>,
): string[] {
  return expressions.flatMap(({ panel, expr }) =>
    [...expr.matchAll(/\b(marquee_[a-z0-9_]+)\b/g)]
      .map((match) => match[1]!)
      .filter((name) => !exported.has(name))
      .map((name) => `${panel}: ${name}`),
  );
}

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(
    readFileSync(join(REPO_ROOT, 'k8s', 'grafana', 'marquee.dashboard.json'), 'utf8'),
  ) as { panels: { title: string; targets?: { expr: string }[] }[] };
  const expressions = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
  );

  it('queries only metrics the services export, and shows every metric Marquee defines', async () => {
    const exported = new Set<string>();
    for (const service of SERVICES)
      for (const name of exportedNames(await scrape(service))) exported.add(name);
    expect(expressions.length).toBeGreaterThan(10);
    const unknown = unknownMetrics(expressions, exported);
    expect(unknown).toEqual([]);
    // Every metric family beyond Node's defaults appears on some panel.
    const ours = [
      'marquee_http_request_duration_seconds',
      'marquee_cache_requests_total',
      'marquee_provider_events_fetched_total',
      'marquee_provider_events_upserted_total',
      'marquee_provider_events_unchanged_total',
      'marquee_provider_events_rejected_total',
      'marquee_sync_duration_seconds',
      'marquee_job_duration_seconds',
      'marquee_breaker_state',
      'marquee_queue_jobs',
      'marquee_dead_letters_total',
      'marquee_provider_last_success_timestamp_seconds',
      'marquee_provider_interval_seconds',
      'marquee_build_info',
      'marquee_webhook_deliveries_total',
      'marquee_webhook_delivery_latency_seconds',
      'marquee_webhook_backlog',
      'marquee_changes_lag_seconds',
    ];
    for (const name of ours) expect(exported).toContain(name);
    const queried = expressions.map(({ expr }) => expr).join('\n');
    expect(ours.filter((name) => !queried.includes(name))).toEqual([]);
  });

  it('the check catches a misspelt metric', () => {
    const exported = new Set(['marquee_queue_jobs', 'marquee_sync_duration_seconds_bucket']);
    expect(
      unknownMetrics(
        [
          { panel: 'a', expr: 'max(marquee_queue_job)' },
          {
            panel: 'b',
            expr: 'histogram_quantile(0.9, rate(marquee_sync_duration_seconds_bucket[5m]))',
          },
        ],
        exported,
      ),
    ).toEqual(['a: marquee_queue_job']);
  });
});

describe('the alert rules (k8s/base/prometheus-rules.yaml)', () => {
  it('query only metrics the services export', async () => {
    const exported = new Set<string>();
    for (const service of SERVICES)
      for (const name of exportedNames(await scrape(service))) exported.add(name);
    const rules = (await render('k8s/base'))
      .filter((object) => object.kind === 'PrometheusRule')
      .flatMap(
        (object) =>
          (
            object as unknown as {
              spec: { groups: { rules: { alert: string; expr: string }[] }[] };
            }
          ).spec.groups,
      )
      .flatMap((group) => group.rules);
    expect(rules.length).toBeGreaterThanOrEqual(4);
    expect(
      unknownMetrics(
        rules.map((rule) => ({ panel: rule.alert, expr: rule.expr })),
        exported,
      ),
    ).toEqual([]);
  });
});
