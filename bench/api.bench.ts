// `pnpm bench:api`: the HTTP API against a seeded database, beside two references answering the
// same bytes (bare node:http and a minimal Express 5 app), with autocannon on the same machine.
// BENCH_DURATION_S (default 10) sets each case's duration; BENCH_CLUSTER=0 skips the API_WORKERS=2 run;
// BENCH_CASES picks groups of cases (a partial run still rewrites the API section: commit full runs).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SearchCache } from '@marquee/cache';
import { ApiKeyRepository, createDb, EventRepository, ProviderRepository } from '@marquee/db';
import type { EventRecord } from '@marquee/event-model';
import { createRedis } from '@marquee/redis';
import { createTestDatabase, freePort, REPO_ROOT, uniquePrefix } from '@marquee/testing';
import { writeSection } from './results.writer.ts';
import { steadyLoad } from './steady.load.ts';

/** The api's entry point as docker-compose.yml and Kubernetes run it. */
const API_ENTRY = 'services/api/dist/main.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  throughput: { average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
  overallRate?: number;
  requests?: { setupRequest: (request: { path: string }) => { path: string } }[];
}

const autocannon = createRequire(import.meta.url)('autocannon') as (
  options: AutocannonOptions,
) => Promise<AutocannonResult>;

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? '10');
// BENCH_CASES=fixed,cluster runs only those groups (cached, fixed, uncached, storm, cluster).
const CASES = process.env.BENCH_CASES?.split(',').map((name) => name.trim());
const wants = (group: string): boolean => CASES === undefined || CASES.includes(group);
const CONNECTIONS = 100;
const FIXED_RATE = 5_000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

const WINDOWS = {
  narrow: {
    path: '/search?starts_at=2030-01-10&ends_at=2030-01-11',
    count: 5,
    from: '2030-01-10T08:00:00Z',
    spanMs: 3_600_000,
  },
  '1k': {
    path: '/search?starts_at=2031-01-01&ends_at=2031-01-31',
    count: 1_000,
    from: '2031-01-01T00:00:00Z',
    spanMs: 29 * 86_400_000,
  },
  '10k': {
    path: '/search?starts_at=2032-01-01&ends_at=2032-12-31',
    count: 10_000,
    from: '2032-01-01T00:00:00Z',
    spanMs: 360 * 86_400_000,
  },
} as const;
type WindowName = keyof typeof WINDOWS;

function events(name: WindowName): EventRecord[] {
  const { count, from, spanMs } = WINDOWS[name];
  const start = new Date(from).getTime();
  return Array.from({ length: count }, (_, index) => {
    const startsAt = new Date(start + Math.floor((index * spanMs) / count));
    return {
      externalKey: `${name}/${index}`,
      title: `Benchmark concert number ${index} in ${name}`,
      startsAt,
      endsAt: new Date(startsAt.getTime() + 2 * 3_600_000),
      timezone: 'Europe/Madrid',
      minPrice: `${10 + (index % 50)}.00`,
      maxPrice: `${60 + (index % 90)}.50`,
      currency: 'EUR',
      online: true,
    };
  });
}

interface Service {
  url: string;
  stop(): Promise<void>;
}

async function startProcess(
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: (url: string) => Promise<boolean>,
): Promise<Service> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      // TypeScript sources (the references) run through tsx; a built bundle runs as it is.
      ...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []),
      join(REPO_ROOT, entry),
      ...args.map((arg) => arg.replace('{port}', String(port))),
    ],
    {
      cwd: REPO_ROOT,
      env: { ...env, API_PORT: String(port), API_HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}`);
    if (await ready(url).catch(() => false)) break;
    if (Date.now() > until) throw new Error(`${entry} not ready in 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface Row {
  case: string;
  server: string;
  rps: number;
  p50: number;
  p99: number;
  mbps: number | '';
  bad: number;
}

const rows: Row[] = [];

async function measure(
  label: string,
  server: string,
  options: AutocannonOptions,
): Promise<AutocannonResult> {
  const result = await autocannon(options);
  const row: Row = {
    case: label,
    server,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    mbps: Math.round((result.throughput.average / 1e6) * 10) / 10,
    bad: result.non2xx + result.errors + result.timeouts,
  };
  rows.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
  return result;
}

/** A steady (open-loop) fixed rate: see steady.load.ts for why autocannon's is not one. */
async function measureSteady(
  label: string,
  server: string,
  url: string,
  headers?: Record<string, string>,
): Promise<void> {
  const load = { url, rate: FIXED_RATE, connections: CONNECTIONS, headers };
  // Unmeasured warm-up at the same rate: connections opened, the previous case's garbage
  // collected (the first seconds after the saturating cases were the slowest of every run).
  await steadyLoad({ ...load, durationS: 3 });
  const result = await steadyLoad({ ...load, durationS: DURATION_S });
  const row: Row = {
    case: label,
    server,
    rps: result.rps,
    p50: result.p50,
    p99: result.p99,
    mbps: '',
    bad: result.bad,
  };
  rows.push(row);
  process.stderr.write(`${JSON.stringify({ ...row, max: result.max })}\n`);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const loadBefore = loadavg()
  .map((value) => value.toFixed(1))
  .join(' ');
const database = await createTestDatabase('bench-api');
const prefix = uniquePrefix('bench-api');
const db = createDb({ databaseUrl: database.url });
const redis = createRedis(REDIS_URL, 'fail-fast');
await new Promise((resolve) => redis.once('ready', resolve));
const services: Service[] = [];
const notes: string[] = [];

try {
  const provider = await new ProviderRepository(db).create({
    name: 'bench',
    kind: 'fever-xml',
    url: 'http://127.0.0.1/feed.xml',
    everySeconds: 3600,
    timezone: 'Europe/Madrid',
  });
  const repository = new EventRepository(db);
  for (const name of Object.keys(WINDOWS) as WindowName[]) {
    await repository.upsertMany(provider, events(name), new Date());
  }
  await db.$executeRawUnsafe('ANALYZE events');
  // The benchmark's key: a quota far above the load, so rate limiting runs but never refuses.
  const { key } = await new ApiKeyRepository(db).create('benchmark', 1_000_000_000);
  const headers = { 'X-API-Key': key };
  const apiEnv = {
    ...process.env,
    DATABASE_URL: database.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'info',
  };
  const readyz = async (url: string) => (await fetch(`${url}/readyz`)).status === 200;

  // The api as the image runs it: its bundle (scripts/build.mjs), built from the current sources.
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs'), 'api'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const api = await startProcess(API_ENTRY, [], apiEnv, readyz);
  services.push(api);

  // The bytes the references serve: exactly what the API answered.
  const bodies: Record<string, string> = {};
  const sizes: Record<string, number> = {};
  for (const name of Object.keys(WINDOWS) as WindowName[]) {
    const response = await fetch(`${api.url}${WINDOWS[name].path}`, { headers });
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200) throw new Error(`${WINDOWS[name].path}: ${response.status}`);
    bodies[WINDOWS[name].path] = body.toString('base64');
    sizes[name] = body.length;
  }
  const bodiesFile = join(tmpdir(), `${prefix}-bodies.json`);
  writeFileSync(bodiesFile, JSON.stringify(bodies));
  const listening = async (url: string) =>
    (await fetch(`${url}${WINDOWS.narrow.path}`)).status === 200;
  const startReference = async (server: 'node' | 'express') => {
    const args = [server, '{port}', bodiesFile];
    const service = await startProcess(
      'bench/api-reference.server.ts',
      args,
      process.env,
      listening,
    );
    services.push(service);
    return service;
  };
  const bare = await startReference('node');
  const minimal = await startReference('express');

  const base = { connections: CONNECTIONS, duration: DURATION_S };
  for (const name of wants('cached') ? (Object.keys(WINDOWS) as WindowName[]) : []) {
    const path = WINDOWS[name].path;
    const label = `cached ${name} (${(sizes[name]! / 1024).toFixed(1)} KB)`;
    await measure(label, 'api', { ...base, url: `${api.url}${path}`, headers });
    await measure(label, 'node:http', { ...base, url: `${bare.url}${path}` });
    await measure(label, 'express', { ...base, url: `${minimal.url}${path}` });
  }

  // The references at the same rate show the latency floor of this machine and load generator,
  // against which the api's p99 is read. autocannon's fixed rate comes in per-second bursts
  // (steady.load.ts); the open-loop rows are the steady load.
  const fixedLabel = `fixed ${FIXED_RATE} req/s (autocannon), cached narrow`;
  const fixed = { ...base, overallRate: FIXED_RATE };
  if (wants('fixed')) {
    await measure(fixedLabel, 'api', {
      ...fixed,
      url: `${api.url}${WINDOWS.narrow.path}`,
      headers,
    });
    await measure(fixedLabel, 'node:http', { ...fixed, url: `${bare.url}${WINDOWS.narrow.path}` });
    await measure(fixedLabel, 'express', { ...fixed, url: `${minimal.url}${WINDOWS.narrow.path}` });
    const steadyLabel = `steady ${FIXED_RATE} req/s (open loop), cached narrow`;
    await measureSteady(steadyLabel, 'api', `${api.url}${WINDOWS.narrow.path}`, headers);
    await measureSteady(steadyLabel, 'node:http', `${bare.url}${WINDOWS.narrow.path}`);
    await measureSteady(steadyLabel, 'express', `${minimal.url}${WINDOWS.narrow.path}`);
  }

  // Uncached: every request has its own end bound (1 ms apart, past every event: same rows), so
  // each one misses the cache and queries Postgres.
  let unique = 0;
  for (const name of wants('uncached') ? (['1k', '10k'] as const) : []) {
    const [startsAt, endsAt] = WINDOWS[name].path.replace('/search?', '').split('&');
    const endBase = new Date(`${endsAt!.split('=')[1]}T23:59:59.000Z`).getTime();
    const pathFor = () =>
      `/search?${startsAt}&ends_at=${new Date(endBase - (unique++ % 86_000_000)).toISOString()}`;
    const latencies: number[] = [];
    for (let sample = 0; sample < 20; sample += 1) {
      const started = performance.now();
      const response = await fetch(`${api.url}${pathFor()}`, { headers });
      await response.arrayBuffer();
      if (response.headers.get('x-cache') !== 'miss') throw new Error('expected a cache miss');
      latencies.push(performance.now() - started);
    }
    notes.push(
      `uncached ${name}, one request at a time: median ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms (20 requests)`,
    );
    await measure(`uncached ${name}, 10 connections`, 'api', {
      connections: 10,
      duration: DURATION_S,
      url: `${api.url}${WINDOWS[name].path}`,
      headers,
      requests: [{ setupRequest: (request) => ({ ...request, path: pathFor() }) }],
    });
  }

  // Miss storm: the catalog version moves, then 100 identical requests arrive at once.
  const storms: number[] = [];
  const ingestCache = new SearchCache({ redis, prefix, ttlSeconds: 60 });
  const outcomes = new Map<string, number>();
  for (let round = 0; round < (wants('storm') ? 10 : 0); round += 1) {
    // As ingestion does it: the bump is published to the api's in-process version.
    await ingestCache.bumpVersion();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 100 }, async () => {
        const response = await fetch(`${api.url}${WINDOWS['10k'].path}`, { headers });
        await response.arrayBuffer();
        const outcome = response.headers.get('x-cache') ?? '?';
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
    );
    storms.push(performance.now() - started);
  }
  if (wants('storm'))
    notes.push(
      `miss storm, 100 identical 10k-window requests right after a version bump (10 rounds): all answered in median ${percentile(storms, 50).toFixed(0)} ms, max ${Math.max(...storms).toFixed(0)} ms; outcomes ${JSON.stringify(Object.fromEntries(outcomes))} (single-flight: one query per storm and process)`,
    );

  if (process.env.BENCH_CLUSTER !== '0' && wants('cluster')) {
    await api.stop();
    services.splice(services.indexOf(api), 1);
    // The api's own cluster mode: API_WORKERS processes share the port (node:cluster).
    const clustered = await startProcess(API_ENTRY, [], { ...apiEnv, API_WORKERS: '2' }, readyz);
    services.push(clustered);
    for (const name of ['narrow', '10k'] as const) {
      await fetch(`${clustered.url}${WINDOWS[name].path}`, { headers }).then((response) =>
        response.arrayBuffer(),
      );
      await measure(`cached ${name}`, 'api ×2 (cluster)', {
        ...base,
        url: `${clustered.url}${WINDOWS[name].path}`,
        headers,
      });
    }
    await measure(`fixed ${FIXED_RATE} req/s, cached narrow`, 'api ×2 (cluster)', {
      ...base,
      url: `${clustered.url}${WINDOWS.narrow.path}`,
      headers,
      overallRate: FIXED_RATE,
    });
  }

  const loadAfter = loadavg()
    .map((value) => value.toFixed(1))
    .join(' ');
  const table = [
    '| case | server | req/s | p50 ms | p99 ms | MB/s | non-2xx/errors |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.case} | ${row.server} | ${row.rps} | ${row.p50} | ${row.p99} | ${row.mbps} | ${row.bad} |`,
    ),
  ];
  const smoke = DURATION_S < 10 || process.env.BENCH_SMOKE === '1';
  writeSection(
    'API',
    `## API

Run ${new Date().toISOString()} by \`pnpm bench:api\` (BENCH_DURATION_S=${DURATION_S}) on ${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores, Node ${process.version}; load average ${loadBefore} before, ${loadAfter} after.
${smoke ? '\n**Smoke run**: short durations on a machine shared with other work, to prove the script; not the official measurement.\n' : ''}
The api is \`node ${API_ENTRY}\` as deployed, the bundle built from the current sources, with helmet, request ids, metrics, API key + Redis rate limit on every request (the benchmark's key has a quota far above the load), over a seeded database (${WINDOWS.narrow.count}-event narrow window, 1,000- and 10,000-event windows). The references answer the same bytes from memory. autocannon runs in this process, ${CONNECTIONS} connections, ${DURATION_S} s per case, on the same cores.

${table.join('\n')}

${notes.map((note) => `- ${note}`).join('\n')}`,
  );
} finally {
  for (const service of services.reverse()) await service.stop();
  // Every key of this run lives under its own prefix.
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  await redis.quit();
  await db.$disconnect();
  await database.drop();
}
