// The real stack for the ingestion benchmarks: a scratch database, a local feed server, worker
// processes (as deployed: docker-compose.yml's command and runtime environment, the bundle built
// from the current sources) whose RSS is sampled, and the real queue.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import { applyProviderFile } from '@marquee/cli';
import { createDb, ProviderRepository, type Db, type Provider } from '@marquee/db';
import { IngestQueue, QUEUE_NAMES, type SyncJob } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import { createTestDatabase, REPO_ROOT, uniquePrefix, type TestDatabase } from '@marquee/testing';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/**
 * Serves in-memory documents by path; a path maps to a Buffer the bench can swap. With `etags`
 * on, it answers like a typical static server: an ETag per document, 304 to a matching
 * If-None-Match.
 */
class FeedHost {
  readonly documents = new Map<string, Buffer>();
  etags = true;
  /** Each answer waits this long first, as a remote provider's latency would. */
  latencyMs = 0;
  private readonly tags = new WeakMap<Buffer, string>();
  private server: Server | undefined;
  url = '';

  private etag(body: Buffer): string {
    let tag = this.tags.get(body);
    if (tag === undefined) {
      tag = `"${createHash('sha1').update(body).digest('hex')}"`;
      this.tags.set(body, tag);
    }
    return tag;
  }

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      if (this.latencyMs > 0) setTimeout(() => this.answer(request, response), this.latencyMs);
      else this.answer(request, response);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    const body = this.documents.get(new URL(request.url ?? '/', 'http://feed').pathname);
    if (!body) {
      response.writeHead(404).end();
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'application/xml' };
    if (this.etags) {
      headers.etag = this.etag(body);
      if (request.headers['if-none-match'] === headers.etag) {
        response.writeHead(304, headers).end();
        return;
      }
    }
    // With its length, as a static file server sends it (the fetcher reads it into one buffer).
    response.writeHead(200, { ...headers, 'content-length': String(body.length) }).end(body);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }
}

/** CPU time process `pid` of this machine has used so far (user + system), in seconds. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ');
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second).
  return (Number(fields?.[11] ?? 0) + Number(fields?.[12] ?? 0)) / 100;
}

/**
 * CPU seconds so far of every backend serving `db`'s database but the one asking, by pid, read
 * from /proc: PostgreSQL runs on this machine.
 */
export async function postgresCpuSeconds(db: Db): Promise<Map<number, number>> {
  const rows = await db.$queryRaw<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`;
  const seconds = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      seconds.set(pid, cpuSecondsOf(pid));
    } catch {
      // The backend ended meanwhile.
    }
  }
  return seconds;
}

/**
 * CPU seconds `db`'s backends used since `before` (postgresCpuSeconds). Backends that ended
 * meanwhile are missed (a pool keeps its connections while busy).
 */
export async function postgresCpuSince(db: Db, before: Map<number, number>): Promise<number> {
  let total = 0;
  for (const [pid, seconds] of await postgresCpuSeconds(db))
    total += seconds - (before.get(pid) ?? 0);
  return total;
}

/** A worker process as deployed, with its peak RSS read from the kernel (VmHWM). */
export class WorkerProcess {
  private readonly child: ChildProcess;
  private output = '';

  constructor(
    env: NodeJS.ProcessEnv,
    nodeOptions: string[] = [],
    command: readonly string[] = deployedWorker().args,
  ) {
    this.child = spawn(process.execPath, [...nodeOptions, ...command], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on(
      'data',
      (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-20_000)),
    );
    this.child.stderr?.on(
      'data',
      (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-20_000)),
    );
  }

  async ready(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.output.includes('worker started')) {
      if (this.child.exitCode !== null) throw new Error(`worker exited:\n${this.output}`);
      if (Date.now() > until) throw new Error(`worker did not start:\n${this.output}`);
      await sleep(100);
    }
  }

  /** Kernel counters of the process: current and peak resident set, in MB. */
  memory(): { rssMb: number; peakRssMb: number } {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  }

  /** CPU time the process has used so far (user + system), in seconds. */
  cpuSeconds(): number {
    return cpuSecondsOf(this.child.pid!);
  }

  get pid(): number {
    return this.child.pid!;
  }

  log(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The worker as deployed (docker-compose.yml; Kubernetes runs the same, checked by test/manifests/workloads.test.ts). */
export interface DeployedWorker {
  /** Node's arguments after `node`: the built entry point, services/worker/dist/main.js. */
  args: string[];
  /**
   * The environment that tunes the process rather than configures the app: NODE_OPTIONS (V8 heap
   * cap) and glibc's MALLOC_* knobs. They change peak RSS and speed, so workers here run with them.
   */
  runtimeEnv: Record<string, string>;
}

const RUNTIME_ENV = /^(NODE_OPTIONS|MALLOC_[A-Z_]+)$/;

export function deployedWorker(): DeployedWorker {
  const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as {
    services?: { worker?: { command?: unknown; environment?: Record<string, unknown> } };
  };
  const worker = compose.services?.worker;
  const command = worker?.command;
  if (!Array.isArray(command) || command[0] !== 'node') {
    throw new Error(
      `docker-compose.yml: the worker's command is not ['node', …]: ${String(command)}`,
    );
  }
  const runtimeEnv = Object.fromEntries(
    Object.entries(worker?.environment ?? {})
      .filter(([name]) => RUNTIME_ENV.test(name))
      .map(([name, value]) => [name, String(value)]),
  );
  if (runtimeEnv.NODE_OPTIONS === undefined) {
    throw new Error('docker-compose.yml: worker has no NODE_OPTIONS');
  }
  return { args: command.slice(1).map(String), runtimeEnv };
}

/** Builds the bundle the deployed command runs (services/worker/dist), from the current sources. */
function buildDeployedWorker(): void {
  if (!deployedWorker().args.some((arg) => arg.includes('/dist/'))) return;
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs'), 'worker'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Database, queue and feed host of one benchmark run; `close()` removes everything it made. */
export class BenchStack {
  database!: TestDatabase;
  db!: Db;
  providers!: ProviderRepository;
  readonly prefix = uniquePrefix('bench');
  readonly redis = createRedis(REDIS_URL, 'blocking');
  queue!: IngestQueue;
  /**
   * Open from the first `sync` to `stopJobEvents`: a provider cycle waits on job counts instead,
   * and a reader of the event stream would take this process's share of the 2 cores for every
   * job of the cycle.
   */
  private queueEvents: { reader: QueueEvents; connection: Redis } | undefined;
  readonly feeds = new FeedHost();
  private readonly workers: WorkerProcess[] = [];

  async start(): Promise<void> {
    buildDeployedWorker();
    this.database = await createTestDatabase('bench');
    this.db = createDb({ databaseUrl: this.database.url, maxConnections: 4 });
    this.providers = new ProviderRepository(this.db);
    this.queue = new IngestQueue({ connection: this.redis, prefix: this.prefix });
    await this.feeds.start();
  }

  workerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      DATABASE_URL: this.database.url,
      REDIS_URL,
      QUEUE_PREFIX: this.prefix,
      ALLOW_PRIVATE_PROVIDERS: 'true',
      LOG_LEVEL: 'warn',
      FETCH_TIMEOUT_MS: '120000',
      ...deployedWorker().runtimeEnv,
      ...extra,
    };
  }

  async startWorker(
    extra: NodeJS.ProcessEnv = {},
    nodeOptions: string[] = [],
  ): Promise<WorkerProcess> {
    // BENCH_CPU_PROF=<dir>: every worker writes a V8 CPU profile there when it stops.
    const profile = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF]
      : [];
    // BENCH_WORKER_NODE_FLAGS: more flags for every worker (e.g. --perf-basic-prof for `perf`).
    const flags = (process.env.BENCH_WORKER_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const worker = new WorkerProcess(this.workerEnv({ LOG_LEVEL: 'info', ...extra }), [
      ...profile,
      ...flags,
      ...nodeOptions,
    ]);
    this.workers.push(worker);
    await worker.ready();
    return worker;
  }

  /** The worker processes running now. */
  workerProcesses(): readonly WorkerProcess[] {
    return this.workers;
  }

  /** CPU seconds used so far by the workers running now. */
  workersCpuSeconds(): number {
    return this.workers.reduce((sum, worker) => sum + worker.cpuSeconds(), 0);
  }

  /** Transactions PostgreSQL has committed in the bench's database (each lone statement is one). */
  async postgresCommits(): Promise<number> {
    const rows = await this.db.$queryRaw<{ n: bigint }[]>`
      SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()`;
    return Number(rows[0]?.n ?? 0);
  }

  /** Commands Redis has processed so far (all clients: the machine's Redis is the bench's). */
  async redisCommands(): Promise<number> {
    const info = await this.redis.info('stats');
    return Number(/^total_commands_processed:(\d+)/m.exec(info)?.[1] ?? 0);
  }

  /** CPU seconds Redis has used so far (user + system, from INFO): it runs on this machine. */
  async redisCpuSeconds(): Promise<number> {
    const info = await this.redis.info('cpu');
    const field = (name: string) =>
      Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    return field('used_cpu_user') + field('used_cpu_sys');
  }

  async stopWorkers(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((worker) => worker.stop()));
  }

  /**
   * Registers Fever providers as `marquee providers apply -f` does (in process:
   * `applyProviderFile`, from a manifest file), each serving its document at its path. Returns
   * the providers and the apply's own time.
   */
  async applyFeverProviders(
    entries: readonly { name: string; path: string; document: Buffer }[],
  ): Promise<{ providers: Provider[]; created: number; registerMs: number }> {
    const manifest = entries.map(({ name, path, document }) => {
      this.feeds.documents.set(path, document);
      return {
        name,
        kind: 'fever-xml',
        url: `${this.feeds.url}${path}`,
        every: '1h',
        timezone: 'Europe/Madrid',
      };
    });
    const dir = mkdtempSync(join(tmpdir(), 'marquee-bench-providers-'));
    try {
      const file = join(dir, 'providers.yaml');
      writeFileSync(file, stringify({ providers: manifest }));
      const started = performance.now();
      const applied = await applyProviderFile(this.db, file, { allowPrivate: true });
      const registerMs = performance.now() - started;
      const names = new Set(entries.map((entry) => entry.name));
      const providers = (await this.providers.list()).filter((provider) =>
        names.has(provider.name),
      );
      return { providers, created: applied.created, registerMs };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  addProvider(name: string, path: string): Promise<Provider> {
    return this.providers.create({
      name,
      kind: 'fever-xml',
      url: `${this.feeds.url}${path}`,
      everySeconds: 3600,
      timezone: 'Europe/Madrid',
    });
  }

  /** Enqueues one sync and waits for its result. */
  async sync(provider: Provider, timeoutMs = 300_000): Promise<unknown> {
    if (!this.queueEvents) {
      const connection = createRedis(REDIS_URL, 'blocking');
      const reader = new QueueEvents(QUEUE_NAMES.ingest, { connection, prefix: this.prefix });
      this.queueEvents = { reader, connection };
      await reader.waitUntilReady();
    }
    const job: SyncJob = await this.queue.enqueueSync({
      providerId: provider.id,
      trigger: 'manual',
    });
    return job.waitUntilFinished(this.queueEvents.reader, timeoutMs);
  }

  async stopJobEvents(): Promise<void> {
    const events = this.queueEvents;
    this.queueEvents = undefined;
    await events?.reader.close();
    // BullMQ leaves a connection it was given open.
    events?.connection.disconnect();
  }

  /** Removes everything the run made, each step even when an earlier one failed. */
  async close(): Promise<void> {
    const steps: (() => Promise<unknown> | undefined)[] = [
      () => this.stopWorkers(),
      () => this.stopJobEvents(),
      () => this.queue?.queue.obliterate({ force: true }),
      () => this.queue?.close(),
      () => this.feeds.close(),
      () => this.db?.$disconnect(),
      () => this.database?.drop(),
      () => this.redis.quit(),
    ];
    const failures: unknown[] = [];
    for (const step of steps) await Promise.resolve(step()).catch((error) => failures.push(error));
    if (failures.length > 0) console.error('bench cleanup failed:', ...failures);
  }
}
