// `pnpm bench:ingest`: ingestion against the real stack (PostgreSQL, Redis, worker processes as
// deployed, a local HTTP feed server), compared in the same run with
// the parse alone and PostgreSQL COPY of the same rows. Writes the "Ingest" section of
// bench/RESULTS.md. Knobs: BENCH_EVENTS (100000), BENCH_CHANGED_SHARE (0.05), BENCH_PROVIDERS
// (1000), BENCH_PROVIDER_EVENTS (100), BENCH_WORKER_CONCURRENCY (64, the production overlay's
// WORKER_CONCURRENCY: the 1,000-provider cycle).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { contentHash, eventId, type EventRecord } from '@marquee/event-model';
import { parseFeverXml, parseFeverXmlChunked } from '@marquee/providers';
import { SYNC_JOB_OPTIONS } from '@marquee/queue';
import {
  BenchStack,
  deployedWorker,
  postgresCpuSeconds,
  postgresCpuSince,
  sleep,
  type WorkerProcess,
} from './bench.stack.ts';
import type { Provider } from '@marquee/db';
import {
  BENCH_OUT,
  feedFiles,
  GENERATOR_VERSION,
  generateFeeds,
  optionsFromEnv,
  writeFeeds,
} from './feed.generator.ts';
import { writeSection } from './results.writer.ts';

const TIMEZONE = 'Europe/Madrid';
const options = optionsFromEnv();
const providerCount = Number(process.env.BENCH_PROVIDERS ?? 1_000);
const providerEvents = Number(process.env.BENCH_PROVIDER_EVENTS ?? 100);
// The production overlay's WORKER_CONCURRENCY (k8s/overlays/production).
const cycleConcurrency = process.env.BENCH_WORKER_CONCURRENCY ?? '64';
// Worker processes of each provider cycle, in order (BENCH_CYCLE_WORKERS=1,2).
const cycleWorkers = (process.env.BENCH_CYCLE_WORKERS ?? '1,2').split(',').map(Number);
// BENCH_PROVIDER_LATENCY_MS: every provider answers after this long (latency-bound cycles).
const providerLatencyMs = Number(process.env.BENCH_PROVIDER_LATENCY_MS ?? 0);
// BENCH_INGEST_ONLY=feed|providers runs one part and prints it; RESULTS.md is left as it is.
const only = process.env.BENCH_INGEST_ONLY;
const seconds = (ms: number) => (ms / 1000).toFixed(2);
const mb = (value: number) => value.toFixed(0);

function loadFeeds() {
  const files = feedFiles(options.events);
  if (!existsSync(files.manifest)) writeFeeds(options);
  const manifest = JSON.parse(readFileSync(files.manifest, 'utf8')) as {
    version?: number;
    changed: number;
    baseEvents: number;
    seed: number;
    changedShare: number;
  };
  if (
    manifest.version !== GENERATOR_VERSION ||
    manifest.seed !== options.seed ||
    manifest.changedShare !== options.changedShare
  ) {
    writeFeeds(options);
  }
  const fresh = JSON.parse(readFileSync(files.manifest, 'utf8')) as typeof manifest;
  return { a: readFileSync(files.feverA), b: readFileSync(files.feverB), ...fresh };
}

/** Samples the worker's RSS every 25 ms; the kernel's VmHWM is the exact peak. */
function sampleRss(worker: WorkerProcess) {
  let max = 0;
  const timer = setInterval(() => (max = Math.max(max, worker.memory().rssMb)), 25);
  return () => {
    clearInterval(timer);
    return { sampledMaxMb: max, ...worker.memory() };
  };
}

async function rowsWrittenSince(
  stack: BenchStack,
  providerId: string,
  since: Date,
): Promise<number> {
  const rows = await stack.db.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM events WHERE provider_id = ${providerId}::uuid AND updated_at >= ${since}`;
  return Number(rows[0]?.n ?? 0);
}

/** COPY of the same rows the first ingest writes, into a scratch copy of the events table. */
async function copyCeiling(
  stack: BenchStack,
  providerId: string,
  providerName: string,
  events: EventRecord[],
) {
  const file = join(BENCH_OUT, 'copy-rows.csv');
  const csv = (value: string | null) => (value === null ? '' : `"${value.replace(/"/g, '""')}"`);
  const now = new Date().toISOString();
  const started = performance.now();
  const lines = events.map((e) =>
    [
      eventId(providerName, e.externalKey),
      providerId,
      csv(e.externalKey),
      csv(e.title),
      e.startsAt.toISOString(),
      e.endsAt?.toISOString() ?? '',
      csv(e.timezone),
      e.minPrice ?? '',
      e.maxPrice ?? '',
      csv(e.currency),
      e.online,
      e.online,
      csv(contentHash(e)),
      now,
      now,
      now,
    ].join(','),
  );
  writeFileSync(file, lines.join('\n'));
  const prepareMs = performance.now() - started;
  await stack.db.$executeRawUnsafe('DROP TABLE IF EXISTS events_copy');
  await stack.db.$executeRawUnsafe('CREATE TABLE events_copy (LIKE events INCLUDING ALL)');
  const columns =
    'id, provider_id, external_key, title, start_at, end_at, timezone, min_price, max_price, currency, online, ever_online, content_hash, first_seen_at, last_seen_at, updated_at';
  const copyStarted = performance.now();
  execFileSync('psql', [
    stack.database.url,
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    `\\copy events_copy (${columns}) FROM '${file}' CSV`,
  ]);
  const copyMs = performance.now() - copyStarted;
  rmSync(file);
  const count = await stack.db.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM events_copy`;
  await stack.db.$executeRawUnsafe('DROP TABLE events_copy');
  return { copyMs, prepareMs, rows: Number(count[0]?.n ?? 0) };
}

/** Rounds of (first ingest, parse only, COPY) for the ratio to the ceiling; the median is kept. */
const RATIO_ROUNDS = Number(process.env.BENCH_RATIO_ROUNDS ?? 3);

/** Heap cap of the second first-ingest run: what a container memory limit would impose. */
const CAPPED_HEAP_MB = Number(process.env.BENCH_WORKER_HEAP_MB ?? 160);

/** One sync of `target` on `worker`: its wall time, summary, rows written and RSS. */
async function timedSync(stack: BenchStack, worker: WorkerProcess, target: Provider) {
  // Runs fetch the same host back to back: wait out the worker's per-host politeness delay
  // (POLITE_MIN_DELAY_MS, 1 s by default) so the wall time is the sync's, not a deliberate pause.
  await sleep(1_100);
  const since = new Date();
  const stop = sampleRss(worker);
  const started = performance.now();
  const summary = (await stack.sync(target)) as { upserted: number; parsed: number };
  const wallMs = performance.now() - started;
  return {
    wallMs,
    summary,
    written: await rowsWrittenSince(stack, target.id, since),
    memory: stop(),
  };
}

/**
 * The ratio to the ceiling, in rounds: a first ingest (fresh provider, fresh worker), then right
 * after, in this process, the same parser alone and COPY of the same rows. This machine's speed
 * drifts by tens of percent within minutes, so each round's three measures are taken together
 * and the median round is reported.
 */
async function ratioRounds(stack: BenchStack, feeds: ReturnType<typeof loadFeeds>) {
  const rounds: {
    ingestMs: number;
    parseMs: number;
    copy: Awaited<ReturnType<typeof copyCeiling>>;
    ratio: number;
  }[] = [];
  for (let round = 0; round < RATIO_ROUNDS; round += 1) {
    const path = `/ratio-${round}.xml`;
    stack.feeds.documents.set(path, feeds.a);
    const target = await stack.addProvider(`big-ratio-${round}`, path);
    const worker = await stack.startWorker({ WORKER_CONCURRENCY: '1', METRICS_PORT: '0' });
    const ingest = await timedSync(stack, worker, target);
    await stack.stopWorkers();
    const parseStarted = performance.now();
    const parsed = await parseFeverXmlChunked(feeds.a, { timezone: TIMEZONE });
    const parseMs = performance.now() - parseStarted;
    const copy = await copyCeiling(stack, target.id, target.name, parsed.events);
    rounds.push({
      ingestMs: ingest.wallMs,
      parseMs,
      copy,
      ratio: ingest.wallMs / (parseMs + copy.copyMs),
    });
  }
  const median = [...rounds].sort((x, y) => x.ratio - y.ratio)[Math.floor(rounds.length / 2)]!;
  return { rounds, median };
}

async function bigFeed(stack: BenchStack, feeds: ReturnType<typeof loadFeeds>) {
  stack.feeds.documents.set('/big.xml', feeds.a);
  const provider = await stack.addProvider('big', '/big.xml');
  let worker = await stack.startWorker({ WORKER_CONCURRENCY: '1', METRICS_PORT: '0' });
  const before = worker.memory();
  const first = await timedSync(stack, worker, provider);
  // The feed server sends an ETag: the worker's conditional GET gets a 304.
  const notModified = await timedSync(stack, worker, provider);
  // Without validators the payload is fetched, parsed and compared.
  stack.feeds.etags = false;
  const unchanged = await timedSync(stack, worker, provider);
  stack.feeds.documents.set('/big.xml', feeds.b);
  const changed = await timedSync(stack, worker, provider);
  await stack.stopWorkers();

  // The same first ingest in a worker whose V8 heap is capped, as a container limit would.
  stack.feeds.documents.set('/capped.xml', feeds.a);
  const cappedProvider = await stack.addProvider('big-capped', '/capped.xml');
  worker = await stack.startWorker({ WORKER_CONCURRENCY: '1', METRICS_PORT: '0' }, [
    `--max-old-space-size=${CAPPED_HEAP_MB}`,
  ]);
  const capped = await timedSync(stack, worker, cappedProvider);
  await stack.stopWorkers();
  stack.feeds.etags = true;

  const { rounds, median } = await ratioRounds(stack, feeds);
  const wholeStarted = performance.now();
  const whole = parseFeverXml(feeds.a, { timezone: TIMEZONE });
  const wholeParseMs = performance.now() - wholeStarted;
  return {
    before,
    first,
    notModified,
    unchanged,
    capped,
    changed,
    wholeParseMs,
    rounds,
    median,
    events: whole.events.length,
  };
}

type CostCounters = Awaited<ReturnType<typeof costCounters>>;

async function costCounters(stack: BenchStack) {
  return {
    worker: stack.workersCpuSeconds(),
    // Every connection of the workers; this process's own stay idle while a cycle drains.
    postgres: await postgresCpuSeconds(stack.db),
    redis: await stack.redisCpuSeconds(),
    harness: process.cpuUsage(),
    commits: await stack.postgresCommits(),
    commands: await stack.redisCommands(),
  };
}

/** What the cycle cost per job: CPU of each process on the 2 cores, and statements and commands. */
async function cycleCosts(stack: BenchStack, before: CostCounters) {
  const perJob = (total: number) => Number((total / providerCount).toFixed(3));
  // This process serves the providers' feeds and polls the counts: its CPU shares the cores.
  const harness = process.cpuUsage(before.harness);
  const cpu = {
    workerCpuMsPerJob: perJob((stack.workersCpuSeconds() - before.worker) * 1000),
    postgresCpuMsPerJob: perJob((await postgresCpuSince(stack.db, before.postgres)) * 1000),
    redisCpuMsPerJob: perJob(((await stack.redisCpuSeconds()) - before.redis) * 1000),
    harnessCpuMsPerJob: perJob((harness.user + harness.system) / 1000),
  };
  // pg_stat_database's counters lag by up to its stats flush interval (1 s).
  await sleep(1_100);
  return {
    ...cpu,
    postgresCommitsPerJob: perJob((await stack.postgresCommits()) - before.commits),
    redisCommandsPerJob: perJob((await stack.redisCommands()) - before.commands),
  };
}

/** The drain time the targets mean: from the first job's start to the last job's completion. */
async function drainSpan(stack: BenchStack): Promise<number> {
  const jobs = await stack.queue.queue.getJobs(['completed', 'failed'], 0, -1);
  const started = Math.min(...jobs.map((job) => job.processedOn ?? Infinity));
  const finished = Math.max(...jobs.map((job) => job.finishedOn ?? 0));
  return finished - started;
}

/** Fever providers of a cycle, each with a feed of its own (`seed` makes the feeds differ). */
function cycleProviders(stack: BenchStack, label: string, count: number, seed: number) {
  return stack.applyFeverProviders(
    Array.from({ length: count }, (_, i) => ({
      name: `${label}-${i}`,
      path: `/${label}-${i}.xml`,
      document: generateFeeds({ events: providerEvents, changedShare: 0, seed: seed + i }).feverA,
    })),
  );
}

/** Enqueues what one scheduling cycle does (one sync job per provider) and waits for them all. */
async function drainCycle(stack: BenchStack, providers: readonly Provider[]) {
  await stack.queue.queue.addBulk(
    providers.map((provider) => ({
      name: 'provider.sync',
      data: { providerId: provider.id, trigger: 'schedule' as const },
      opts: SYNC_JOB_OPTIONS,
    })),
  );
  const started = performance.now();
  for (;;) {
    const counts = await stack.queue.queue.getJobCounts('completed', 'failed');
    if ((counts.completed ?? 0) + (counts.failed ?? 0) >= providers.length) return counts;
    if (performance.now() - started > 600_000)
      throw new Error(`cycle did not drain: ${JSON.stringify(counts)}`);
    await sleep(50);
  }
}

/** One cycle of fresh providers on the running workers: drain time, costs, rows written. */
async function measuredCycle(stack: BenchStack, label: string, seed: number) {
  const { providers } = await cycleProviders(stack, label, providerCount, seed);
  await stack.queue.queue.obliterate({ force: true });
  stack.feeds.latencyMs = providerLatencyMs;
  const before = await costCounters(stack);
  const started = performance.now();
  const counts = await drainCycle(stack, providers);
  const wallMs = performance.now() - started;
  // Peak RSS of the largest worker process over its life so far.
  const peakRssMb = Math.max(...stack.workerProcesses().map((worker) => worker.memory().peakRssMb));
  const costs = await cycleCosts(stack, before);
  stack.feeds.latencyMs = 0;
  const rows = await stack.db.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM events e JOIN providers p ON p.id = e.provider_id WHERE p.name LIKE ${`${label}-%`}`;
  return {
    drainMs: await drainSpan(stack),
    wallMs,
    peakRssMb: Math.round(peakRssMb),
    ...costs,
    failed: counts.failed ?? 0,
    rows: Number(rows[0]?.n ?? 0),
  };
}

/**
 * Fresh worker processes drain two cycles of 1,000 new providers each: the first includes what
 * V8 spends compiling the worker's code as it gets hot; the next is what a worker that has been
 * running (as deployed workers do, cycle after cycle) takes.
 */
async function providerCycles(stack: BenchStack, workers: number, round: number) {
  await stack.stopJobEvents();
  for (let w = 0; w < workers; w += 1) {
    // The 1,000 providers share one local host, where deployed they are 1,000 hosts with a
    // politeness budget each (POLITE_*: 2 concurrent fetches and 1 s apart per host). Applied
    // to one host it would serialize the cycle at one fetch per second, so it is lifted here:
    // no delay, and a slot for every sync the processes run at once (fewer would put syncs off
    // as "host busy" and time the politeness limit, not the cycle).
    await stack.startWorker({
      WORKER_CONCURRENCY: cycleConcurrency,
      METRICS_PORT: '0',
      POLITE_MIN_DELAY_MS: '0',
      POLITE_HOST_CONCURRENCY: String(workers * Number(cycleConcurrency)),
    });
  }
  const results = [];
  for (const cycle of ['first', 'next'] as const) {
    const seed = cycle === 'first' ? 1_000 : 500_000;
    const measured = await measuredCycle(stack, `cycle${round}${cycle}`, seed);
    results.push({ workers, cycle, latencyMs: providerLatencyMs, ...measured });
  }
  await stack.stopWorkers();
  return results;
}

const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(', ');
const loadBefore = load();
const feeds = loadFeeds();
const stack = new BenchStack();
await stack.start();
let big;
const cycles = [];
try {
  if (only !== 'providers') {
    console.log(`big feed: ${options.events} events, ${(feeds.a.length / 1e6).toFixed(1)} MB`);
    big = await bigFeed(stack, feeds);
    console.log(JSON.stringify(big, null, 1));
  }
  for (const [round, workers] of (only === 'feed' ? [] : cycleWorkers).entries()) {
    for (const cycle of await providerCycles(stack, workers, round)) {
      cycles.push(cycle);
      console.log(JSON.stringify(cycle));
    }
  }
} finally {
  await stack.close();
}
if (only !== undefined || big === undefined) process.exit(0);
const loadAfter = load();

const { median } = big;
const ceiling = median.parseMs + median.copy.copyMs;
const ratio = median.ratio;
const worker = deployedWorker();
const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const section = `## Ingest

Run ${new Date().toISOString()} by \`pnpm bench:ingest\` on ${cpus().length} cores, load average ${loadBefore} before and ${loadAfter} after.
Feed: ${options.events} events in ${feeds.baseEvents} base events, ${(feeds.a.length / 1e6).toFixed(1)} MB of Fever XML,
timezone ${TIMEZONE}; ${feeds.changed} events changed in the second snapshot. The worker runs as deployed (docker-compose.yml):
\`${Object.entries(worker.runtimeEnv)
  .map(([name, value]) => `${name}=${value}`)
  .join(
    ' ',
  )} node ${worker.args.join(' ')}\`, the bundle built from the current sources, as a child process; wall time is from enqueueing the sync to its completion (fetch, parse, committed rows, sync run).

| ${options.events} events | wall | events/s | rows written | worker RSS, max |
| --- | --- | --- | --- | --- |
${line(['first ingest', `${seconds(big.first.wallMs)} s`, Math.round(options.events / (big.first.wallMs / 1000)), big.first.written, `${mb(big.first.memory.peakRssMb)} MB (idle ${mb(big.before.rssMb)} MB)`])}
${line(['unchanged re-ingest, ETag → 304', `${seconds(big.notModified.wallMs)} s`, '', `${big.notModified.written} (summary: ${big.notModified.summary.upserted})`, `${mb(big.notModified.memory.sampledMaxMb)} MB`])}
${line(['unchanged re-ingest, no validators (fetch + content hash; not parsed)', `${seconds(big.unchanged.wallMs)} s`, '', `${big.unchanged.written} (summary: ${big.unchanged.summary.upserted})`, `${mb(big.unchanged.memory.sampledMaxMb)} MB`])}
${line([`${(options.changedShare * 100).toFixed(0)}% changed re-ingest`, `${seconds(big.changed.wallMs)} s`, '', `${big.changed.written} (changed: ${feeds.changed})`, `${mb(big.changed.memory.sampledMaxMb)} MB`])}
${line([`first ingest, worker with --max-old-space-size=${CAPPED_HEAP_MB}`, `${seconds(big.capped.wallMs)} s`, Math.round(options.events / (big.capped.wallMs / 1000)), big.capped.written, `${mb(big.capped.memory.peakRssMb)} MB`])}

| ceiling, same run: ${big.rounds.length} rounds of a first ingest (fresh provider and worker), then the parse alone and COPY right after | first ingest | parse only (the worker's chunked Fever reader) | COPY of the same ${median.copy.rows} rows into a copy of \`events\` (psql \\copy, indexes included) | first ingest / (parse + COPY) |
| --- | --- | --- | --- | --- |
${big.rounds.map((r, index) => line([`round ${index + 1}${r === median ? ' (median)' : ''}`, `${seconds(r.ingestMs)} s`, `${seconds(r.parseMs)} s`, `${seconds(r.copy.copyMs)} s`, `${r.ratio.toFixed(2)}x`])).join('\n')}
${line(['**median**', '', '', '', `**${ratio.toFixed(2)}x** (target 1.3x; parse + COPY ${seconds(ceiling)} s)`])}

| for reference | time |
| --- | --- |
${line(['for reference: the whole-document parser (before this change)', `${seconds(big.wholeParseMs)} s`])}

| ${providerCount} providers × ${providerEvents} events, one cycle${providerLatencyMs > 0 ? ` (providers answer after ${providerLatencyMs} ms)` : ''} | drain: first job's start to last completion | jobs/s | CPU per job: worker / PostgreSQL / Redis / this process (feed server) | PostgreSQL commits per job | worker peak RSS | failed | rows |
| --- | --- | --- | --- | --- | --- | --- | --- |
${cycles.map((c) => line([`${c.workers} worker process${c.workers > 1 ? 'es' : ''} (concurrency ${cycleConcurrency} each), ${c.cycle === 'first' ? 'first cycle after start' : 'next cycle'}`, `${seconds(c.drainMs)} s`, Math.round(providerCount / (c.drainMs / 1000)), [c.workerCpuMsPerJob, c.postgresCpuMsPerJob, c.redisCpuMsPerJob, c.harnessCpuMsPerJob].map((ms) => ms.toFixed(2)).join(' / ') + ' ms', c.postgresCommitsPerJob.toFixed(2), `${c.peakRssMb} MB`, c.failed, c.rows])).join('\n')}
`;
writeSection('Ingest', section);
console.log(section);
