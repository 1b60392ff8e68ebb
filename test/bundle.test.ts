// The services as deployed: each one's esbuild bundle (scripts/build.mjs, built here from the
// current sources), started with docker-compose.yml's command and environment, against a fresh
// database, Redis, a local Fever feed and a local HTML page. The scheduler bundle schedules both
// providers' syncs, the worker bundle fetches and writes them (Prisma's wasm query compiler, COPY
// through pg-copy-streams, cheerio required lazily for the HTML kind), the api bundle serves them
// at /search, the dashboard bundle serves Bull Board and its assets; each exits 0 soon after
// SIGTERM.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import pg from 'pg';
import { parse } from 'yaml';
import { createDb, ProviderRepository } from '@marquee/db';
import {
  createTestDatabase,
  eventually,
  feverFixture,
  REPO_ROOT,
  startFeedServer,
  startNode,
  uniquePrefix,
  type FeedServer,
  type LongRunning,
  type TestDatabase,
} from '@marquee/testing';

type Service = 'api' | 'worker' | 'scheduler' | 'dashboard';

/** What scripts/build.mjs exports (plain JavaScript, no declarations). */
interface BuildScript {
  SERVICES: readonly string[];
  buildInfo: () => { version: string; revision: string };
  buildService: (name: string, overrides?: { outdir?: string }) => Promise<unknown>;
}

/**
 * Where each bundle is built. A bundle under os.tmpdir() runs for the worker and the scheduler
 * (cheerio's require is anchored relative to the outdir, Prisma's wasm is a chunk beside
 * main.js). The api and the dashboard resolve packages at run time from the service's own
 * node_modules, so they only start from services/<name>/dist, the path the image runs:
 * the api's docs router resolves swagger-ui-dist with createRequire(import.meta.url) when the
 * module loads, and the dashboard keeps @bull-board/* external (from /tmp both die at once with
 * "Cannot find module"). Those two are built into the real, gitignored dist/ and left there (it is
 * what `pnpm build` writes from the same sources).
 */
const BUILT_IN_PLACE: ReadonlySet<Service> = new Set(['api', 'dashboard']);

const FEED = feverFixture('response_1.xml');
const FEED_TITLES = ['Pantomima Full', 'Camela en concierto', 'Los Morancos'];
/** schema.org JSON-LD in a real page: 13 events (as in test/provider-kinds-pipeline.test.ts). */
const PAGE = readFileSync(
  join(
    REPO_ROOT,
    'packages/providers/test/fixtures/real/html/songkick_years-and-years_tour-dates_2015.html',
  ),
);
const PAGE_EVENTS = 13;
const REDIS_URL = 'redis://127.0.0.1:6379/0';
const DASHBOARD_USER = 'admin';
const DASHBOARD_PASSWORD = randomBytes(12).toString('hex');
/** SIGTERM to exit: well inside each compose stop_grace_period (15-60 s). */
const STOP_DEADLINE_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// docker-compose.yml: each service's command and environment

interface ComposeService {
  command?: unknown;
  environment?: Record<string, unknown>;
}

const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, ComposeService> };

/** Node's arguments after `node`, as compose runs the service. */
function composeArgs(service: Service): string[] {
  const command = compose.services[service]?.command;
  if (!Array.isArray(command) || command[0] !== 'node')
    throw new Error(`docker-compose.yml: ${service}'s command is not ['node', …]`);
  return command.slice(1).map(String);
}

const UNSET = Symbol('required');

/**
 * Compose's environment with its interpolation resolved as compose would with nothing set:
 * `${VAR:-default}` is the default; `${VAR:?…}` and `${VAR}` must be set by the test.
 */
function composeEnv(service: Service): Record<string, string | typeof UNSET> {
  return Object.fromEntries(
    Object.entries(compose.services[service]?.environment ?? {}).map(([name, raw]) => {
      let required = false;
      const value = String(raw).replace(
        /\$\{(\w+)(?::?([-?])([^}]*))?\}/g,
        (_match, _variable, operator?: string, fallback?: string) => {
          if (operator === '-') return fallback ?? '';
          required = true;
          return '';
        },
      );
      return [name, required ? UNSET : value];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// One bundle as a child process

type LogLine = Record<string, unknown>;

/** A bundle started by `startNode`, with its JSON log lines readable. */
class BundleProcess {
  private readonly process: LongRunning;

  constructor(
    readonly service: Service,
    args: string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.process = startNode(args, env);
  }

  get running(): boolean {
    const { child } = this.process;
    return child.exitCode === null && child.signalCode === null;
  }

  /** The lines that parse as JSON log entries; anything else stays in `output()` only. */
  get lines(): LogLine[] {
    return this.process
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as LogLine];
        } catch {
          return [];
        }
      });
  }

  output(): string {
    const { child } = this.process;
    const state = this.running ? 'running' : `exited ${child.exitCode ?? child.signalCode}`;
    return `--- ${this.service} (${state}):\n${this.process.output().slice(-20_000)}`;
  }

  /** The first log line with this message; fails at once if the process exits first. */
  async waitForLog(message: string, timeoutMs = 20_000): Promise<LogLine> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((line) => line.message === message);
      if (found) return found;
      if (!this.running) throw new Error(`no "${message}" before exit\n${this.output()}`);
      if (Date.now() > until)
        throw new Error(`no "${message}" in ${timeoutMs} ms\n${this.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** SIGTERM; resolves with the exit code (null when SIGKILLed after `deadlineMs`) and the time. */
  async stop(deadlineMs: number): Promise<{ code: number | null; ms: number }> {
    const started = Date.now();
    const code = await this.process.stop(deadlineMs);
    return { code, ms: Date.now() - started };
  }

  kill(): void {
    if (this.running) this.process.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// The stack

let database: TestDatabase | undefined;
let feed: FeedServer | undefined;
let site: FeedServer | undefined;
const prefix = uniquePrefix('bundle');
const tempDirs: string[] = [];
const entries = new Map<Service, string>();
const bundles = new Map<Service, BundleProcess>();
const urls = new Map<Service, string>();

function bundle(service: Service): BundleProcess {
  return bundles.get(service)!;
}

/** What the build baked into the bundles (marquee_build_info). */
let built: { version: string; revision: string } | undefined;

function outputs(): string {
  return [...bundles.values()].map((running) => running.output()).join('\n');
}

async function buildAll(): Promise<void> {
  const script = pathToFileURL(join(REPO_ROOT, 'scripts/build.mjs')).href;
  const { SERVICES, buildService, buildInfo } = (await import(script)) as BuildScript;
  expect([...SERVICES].sort()).toEqual(['api', 'dashboard', 'scheduler', 'worker']);
  built = buildInfo();
  await Promise.all(
    (SERVICES as Service[]).map(async (service) => {
      let outdir = join(REPO_ROOT, 'services', service, 'dist');
      if (!BUILT_IN_PLACE.has(service)) {
        outdir = mkdtempSync(join(tmpdir(), `marquee-bundle-${service}-`));
        tempDirs.push(outdir);
      }
      await buildService(service, { outdir });
      entries.set(service, join(outdir, 'main.js'));
    }),
  );
}

/** Compose's argv for the service, its `services/<name>/dist/main.js` replaced by the built one. */
function argv(service: Service): string[] {
  const deployed = `services/${service}/dist/main.js`;
  const args = composeArgs(service);
  expect(args).toContain(deployed);
  return args.map((arg) => (arg === deployed ? entries.get(service)! : arg));
}

function environment(service: Service, overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: Record<string, string | typeof UNSET> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    // The image's ENV (Dockerfile).
    NODE_ENV: 'production',
    ...composeEnv(service),
    DATABASE_URL: database!.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    // The startup lines carry the ports (0: any free one).
    LOG_LEVEL: 'info',
    // The feed is on 127.0.0.1.
    ALLOW_PRIVATE_PROVIDERS: 'true',
    ...overrides,
  };
  const missing = Object.keys(env).filter((name) => env[name] === UNSET);
  if (missing.length > 0) throw new Error(`${service}: set ${missing.join(', ')} for the test`);
  return env as NodeJS.ProcessEnv;
}

beforeAll(async () => {
  // Each kept as soon as it exists, so afterAll cleans it up even if another one fails.
  await Promise.all([
    createTestDatabase('bundle').then((created) => (database = created)),
    startFeedServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'application/xml' }).end(FEED),
    ).then((created) => (feed = created)),
    // No robots.txt (404): everything allowed.
    startFeedServer((request, response) => {
      if (request.url === '/robots.txt') response.writeHead(404).end();
      else response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    }).then((created) => (site = created)),
    buildAll(),
  ]);
  if (!database || !feed || !site) throw new Error('unreachable');
  // Registered before the scheduler starts: its first reconcile, as leader, schedules them.
  const db = createDb({ databaseUrl: database.url, maxConnections: 1 });
  try {
    const providers = new ProviderRepository(db);
    await providers.create({
      name: 'fever-bundle',
      kind: 'fever-xml',
      url: `${feed.url}/feed.xml`,
      everySeconds: 3600,
      timezone: 'UTC',
    });
    await providers.create({
      name: 'html-bundle',
      kind: 'jsonld-html',
      url: `${site.url}/tour-dates`,
      everySeconds: 3600,
      timezone: 'Europe/London',
      config: { maxPages: 1 },
    });
  } finally {
    await db.$disconnect();
  }

  const overrides: Record<Service, Record<string, string>> = {
    api: { API_PORT: '0', API_HOST: '127.0.0.1' },
    worker: { METRICS_PORT: '0' },
    scheduler: { METRICS_PORT: '0' },
    dashboard: {
      DASHBOARD_PORT: '0',
      DASHBOARD_HOST: '127.0.0.1',
      DASHBOARD_USER,
      DASHBOARD_PASSWORD,
    },
  };
  for (const service of ['worker', 'scheduler', 'api', 'dashboard'] as const)
    bundles.set(
      service,
      new BundleProcess(service, argv(service), environment(service, overrides[service])),
    );

  const port = async (service: Service, message: string, field: string) => {
    const line = await bundle(service).waitForLog(message);
    expect(typeof line[field]).toBe('number');
    urls.set(service, `http://127.0.0.1:${String(line[field])}`);
  };
  await Promise.all([
    port('api', 'listening', 'port'),
    port('dashboard', 'listening', 'port'),
    port('worker', 'worker started', 'metricsPort'),
    port('scheduler', 'scheduler started', 'metricsPort'),
  ]);
});

afterAll(async () => {
  for (const running of bundles.values()) running.kill();
  await Promise.all([...bundles.values()].map((running) => running.stop(1_000)));
  await feed?.close();
  await site?.close();
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
  await database?.drop();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const basicAuth = `Basic ${Buffer.from(`${DASHBOARD_USER}:${DASHBOARD_PASSWORD}`).toString('base64')}`;

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: await response.text(),
  };
}

describe('the service bundles, run as docker-compose.yml runs them', () => {
  it('are built where compose runs them, or in temp dirs where they run as well', () => {
    for (const service of ['api', 'worker', 'scheduler', 'dashboard'] as const) {
      const entry = entries.get(service)!;
      if (BUILT_IN_PLACE.has(service))
        expect(relative(REPO_ROOT, entry)).toBe(`services/${service}/dist/main.js`);
      else expect(entry.startsWith(tmpdir())).toBe(true);
    }
  });

  it('are ready: the probes of all four pass, their database and Redis checks included', async () => {
    for (const service of ['api', 'worker', 'scheduler', 'dashboard'] as const) {
      expect((await get(`${urls.get(service)}/healthz`)).status).toBe(200);
      // Retried, as an orchestrator's readiness probe is: a dependency check has a 1 s deadline,
      // which a first query can miss on a loaded machine.
      let last = { status: 0, body: '' };
      const ready = await eventually(
        async () => {
          last = await get(`${urls.get(service)}/readyz`);
          return last.status === 200 ? last : undefined;
        },
        20_000,
        `${service} ready`,
      ).catch(() => undefined);
      if (!ready) throw new Error(`${service}: /readyz ${last.status} ${last.body}\n${outputs()}`);
    }
  });

  it('schedule, fetch, write and serve: scheduler → worker → Postgres → api /search', async () => {
    const events = await eventually(
      async () => {
        const response = await fetch(`${urls.get('api')}/search?starts_at=2021-01-01`);
        if (response.status !== 200) return undefined;
        const body = (await response.json()) as { data: { events: { title: string }[] } };
        return body.data.events.length > 0 ? body.data.events : undefined;
      },
      20_000,
      "the feed's events at /search",
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${outputs()}`);
    });
    expect(events.map((event) => event.title)).toEqual(FEED_TITLES);
    expect(bundle('scheduler').lines.some((line) => line.message === 'schedules reconciled')).toBe(
      true,
    );

    // The HTML page's events (2015, outside that search), parsed with cheerio.
    const client = new pg.Client({ connectionString: database!.url });
    await client.connect();
    try {
      const count = async () => {
        const { rows } = await client.query<{ name: string; events: number }>(
          `SELECT p.name, count(e.*)::int AS events
           FROM providers p LEFT JOIN events e ON e.provider_id = p.id
           GROUP BY p.name ORDER BY p.name`,
        );
        return rows;
      };
      const expected = [
        { name: 'fever-bundle', events: FEED_TITLES.length },
        { name: 'html-bundle', events: PAGE_EVENTS },
      ];
      await eventually(
        async () => (JSON.stringify(await count()) === JSON.stringify(expected) ? true : undefined),
        10_000,
        "the HTML page's events",
      ).catch(async (error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(await count())}\n${outputs()}`);
      });
    } finally {
      await client.end();
    }
    expect(Object.fromEntries(feed!.hits)).toEqual({ '/feed.xml': 1 });
    expect(Object.fromEntries(site!.hits)).toEqual({ '/robots.txt': 1, '/tour-dates': 1 });
  });

  it('report the release and the commit they were built from (marquee_build_info)', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    // The checkout's commit (or MARQUEE_REVISION, as the image build passes it), not `source`.
    expect(built?.version).toBe(version);
    expect(built?.revision).toMatch(/^[0-9a-f]{40}$/);
    const line = `marquee_build_info{version="${version}",revision="${built!.revision}",node="${process.version}"`;
    for (const service of ['api', 'worker', 'scheduler', 'dashboard'] as const) {
      const metrics = await get(`${urls.get(service)}/metrics`);
      expect({ service, line: metrics.body.includes(`${line},service="${service}"} 1`) }).toEqual({
        service,
        line: true,
      });
    }
  });

  it("api: Swagger UI's files, resolved from the service's node_modules at run time", async () => {
    expect((await get(`${urls.get('api')}/openapi.json`)).status).toBe(200);
    const ui = await get(`${urls.get('api')}/docs/swagger-ui-bundle.js`);
    expect(ui.status).toBe(200);
    expect(ui.type).toContain('javascript');
    expect(ui.body.length).toBeGreaterThan(100_000);
  });

  it('dashboard: Bull Board and one of its static assets behind basic auth, and the status page', async () => {
    const board = `${urls.get('dashboard')}/admin/queues`;
    expect((await get(board)).status).toBe(401);
    const page = await get(board, { authorization: basicAuth });
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map(
      ([, path]) => path!,
    );
    expect(assets.length).toBeGreaterThan(0);
    const script = assets.find((path) => path.endsWith('.js')) ?? assets[0]!;
    const asset = await get(new URL(script, `${board}/`).href, { authorization: basicAuth });
    expect({ script, status: asset.status }).toEqual({ script, status: 200 });
    expect(asset.type).toMatch(/javascript|css/);
    expect(asset.body.length).toBeGreaterThan(1_000);

    // Its API reads the queues from Redis: the scheduler's Job Schedulers and the worker's
    // completed syncs; the webhook deliveries' queue, idle without endpoints. The status page
    // reads the providers from Postgres.
    const queues = await get(`${board}/api/queues`, { authorization: basicAuth });
    expect(queues.status).toBe(200);
    const { queues: list } = JSON.parse(queues.body) as {
      queues: { name: string; counts: { completed: number }; jobSchedulerCount: number }[];
    };
    expect(
      list.map(({ name, counts, jobSchedulerCount }) => ({
        name,
        completed: counts.completed,
        jobSchedulerCount,
      })),
    ).toEqual([
      { name: 'ingest', completed: 2, jobSchedulerCount: 2 },
      { name: 'webhooks', completed: 0, jobSchedulerCount: 0 },
    ]);
    const status = await get(`${urls.get('dashboard')}/`, { authorization: basicAuth });
    expect(status.status).toBe(200);
    expect(status.body).toContain('fever-bundle');
    expect(status.body).toContain('html-bundle');
  });

  it('each exits 0 soon after SIGTERM', async () => {
    const stopped = await Promise.all(
      [...bundles.values()].map(async (running) => ({
        service: running.service,
        ...(await running.stop(STOP_DEADLINE_MS)),
      })),
    );
    for (const { service, code, ms } of stopped) {
      // Code 0: exited by itself (a process ended by a signal, SIGKILL included, has none).
      expect({ service, code }).toEqual({ service, code: 0 });
      expect(ms).toBeLessThan(STOP_DEADLINE_MS);
      expect(bundle(service).lines.some((line) => line.message === 'stopped')).toBe(true);
    }
  });
});
