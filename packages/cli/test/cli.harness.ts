// The stack a CLI test runs `marquee` against, through the real parts: a database and queue
// prefix of its own on the test Redis, a folder for the files it writes, stand-in providers on
// 127.0.0.1 and, when asked, a worker (its runtime in this process, or the worker service as a
// process) and the scheduler service's ProviderScheduler following provider changes, as
// deployed. `useCliStack` starts it before a file's tests and closes all of it after them.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from '@jest/globals';
import type { Redis } from 'ioredis';
import { parseEnv } from '@marquee/config';
import { createDb, EventRepository, ProviderRepository, type Db } from '@marquee/db';
import { createLogger, type Logger } from '@marquee/logger';
import { IngestQueue } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import { LeaderLease, listenForProviderChanges, ProviderScheduler } from '@marquee/scheduler';
import {
  apiEvents,
  createTestDatabase,
  eventRecord,
  runMarquee,
  startDiscogsLikeServer,
  startFeedServer,
  startTs,
  TEST_REDIS_URL,
  uniquePrefix,
  workerProcessEnv,
  workerTestEnv,
  type CommandResult,
  type FeedHandler,
  type FeedServer,
  type PagedApiServer,
  type TestDatabase,
} from '@marquee/testing';
import { createWorkerRuntime, workerEnvSchema } from '@marquee/worker';
import { CliContext } from '../src/cli.context.ts';
import { runCli } from '../src/program.ts';

export interface CliStackOptions {
  /** Names the database, the queue prefix, the folder and the logger. */
  label: string;
  /** `false`: no database, and commands run without DATABASE_URL (`providers test` needs none). */
  database?: false;
  /** Variables on top of the test environment, for the CLI and a worker process alike. */
  env?: NodeJS.ProcessEnv;
  /** A stand-in provider answering with this handler: `stack.feed`. */
  feed?: FeedHandler;
  /** A paged stand-in API (`startDiscogsLikeServer`, `startVivenuLikeServer`): `stack.api`. */
  api?: () => Promise<PagedApiServer>;
  /** A worker: `runtime` in this process (createWorkerRuntime), `process` the worker service. */
  worker?: 'runtime' | 'process';
  /** Worker variables on top of workerTestEnv's. */
  workerEnv?: NodeJS.ProcessEnv;
  /** The scheduler's ProviderScheduler with its change listener (reconciling on NOTIFY). */
  scheduler?: boolean;
}

/** What `marquee` printed on each stream (lines joined by `\n`) and its exit code. */
export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** `marquee`, in this process or as a process, with the stack's environment. */
export interface CliRunner {
  /** In this process, as main.ts runs it. */
  marquee(...args: string[]): Promise<CliResult>;
  /** As users run it: its bin, which runs the CLI bundle (rebuilt first when a source is newer). */
  bin(...args: string[]): Promise<CommandResult>;
}

interface Parts {
  dir: string;
  prefix: string;
  env: NodeJS.ProcessEnv;
  database?: TestDatabase;
  db?: Db;
  redis?: Redis;
  queue?: IngestQueue;
  feed?: FeedServer;
  api?: PagedApiServer;
}

export class CliStack implements CliRunner {
  private parts: Parts | undefined;
  /** What close() undoes, in the order started; it runs them last first. */
  private readonly closers: (() => Promise<unknown>)[] = [];

  constructor(private readonly options: CliStackOptions) {}

  async start(): Promise<void> {
    const { label } = this.options;
    const dir = mkdtempSync(join(tmpdir(), `marquee-${label}-`));
    this.closers.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    const prefix = uniquePrefix(label);
    const parts: Parts = { dir, prefix, env: { ALLOW_PRIVATE_PROVIDERS: 'true' } };
    if (this.options.database !== false) Object.assign(parts, await this.startStore(prefix));
    parts.env = { ...parts.env, ...this.options.env };
    this.parts = parts;
    if (this.options.feed) parts.feed = await this.opened(startFeedServer(this.options.feed));
    if (this.options.api) parts.api = await this.opened(this.options.api());
    const logger = createLogger({ service: `${label}-test`, level: 'error' });
    if (this.options.worker === 'runtime') this.startWorkerRuntime(logger);
    if (this.options.worker === 'process') this.startWorkerProcess();
    if (this.options.scheduler) await this.startScheduler(logger);
  }

  /** Closes all it opened, removes its Redis keys, its database and its folder. */
  async close(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close();
  }

  get dir(): string {
    return this.need('dir');
  }
  get prefix(): string {
    return this.need('prefix');
  }
  get database(): TestDatabase {
    return this.need('database');
  }
  get db(): Db {
    return this.need('db');
  }
  get redis(): Redis {
    return this.need('redis');
  }
  get queue(): IngestQueue {
    return this.need('queue');
  }
  get feed(): FeedServer {
    return this.need('feed');
  }
  get api(): PagedApiServer {
    return this.need('api');
  }
  get providers(): ProviderRepository {
    return new ProviderRepository(this.db);
  }

  marquee(...args: string[]): Promise<CliResult> {
    return this.with({}).marquee(...args);
  }

  bin(...args: string[]): Promise<CommandResult> {
    return this.with({}).bin(...args);
  }

  /** `marquee` with these variables on top of the stack's. */
  with(extra: NodeJS.ProcessEnv): CliRunner {
    const env = () => ({ ...this.need('env'), ...extra });
    return {
      marquee: (...args) => runCliInProcess(args, env()),
      bin: (...args) =>
        runMarquee(args, { PATH: process.env.PATH, HOME: process.env.HOME, ...env() }),
    };
  }

  /** Writes `text` to a file of the stack's folder; returns its path. */
  file(name: string, text: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, text);
    return path;
  }

  /** Writes `value` as JSON to a file of the stack's folder (a `--config`); returns its path. */
  jsonFile(name: string, value: unknown): string {
    return this.file(name, JSON.stringify(value));
  }

  /** Stores one event of the provider, through the repository ingestion writes with. */
  async storeEvent(provider: { id: string; name: string }): Promise<void> {
    await new EventRepository(this.db).upsertMany(provider, [eventRecord()], new Date());
  }

  private need<K extends keyof Parts>(key: K): NonNullable<Parts[K]> {
    const part = this.parts?.[key];
    if (part === undefined)
      throw new Error(`the CLI stack has no ${key} (not started or not asked for)`);
    return part;
  }

  private async opened<T extends { close(): Promise<unknown> }>(starting: Promise<T>): Promise<T> {
    const part = await starting;
    this.closers.push(() => part.close());
    return part;
  }

  private async startStore(prefix: string): Promise<Partial<Parts>> {
    const database = await createTestDatabase(this.options.label);
    this.closers.push(() => database.drop());
    const db = createDb({ databaseUrl: database.url, maxConnections: 4 });
    this.closers.push(() => db.$disconnect());
    const redis = createRedis(TEST_REDIS_URL, 'blocking');
    this.closers.push(async () => {
      // The queue, leases, breaker reports and robots.txt copies, all under the prefix.
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });
    const queue = await this.opened(
      Promise.resolve(new IngestQueue({ connection: redis, prefix })),
    );
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      ALLOW_PRIVATE_PROVIDERS: 'true',
    };
    return { database, db, redis, queue, env };
  }

  private startWorkerRuntime(logger: Logger): void {
    const env = workerTestEnv(this.database.url, this.prefix, this.options.workerEnv);
    const runtime = createWorkerRuntime(parseEnv(workerEnvSchema, env), {
      logger,
      db: this.db,
      redis: this.redis,
    });
    const worker = runtime.createWorker();
    void worker.run();
    this.closers.push(async () => {
      await worker.close();
      await runtime.close();
    });
  }

  private startWorkerProcess(): void {
    const env = { ...this.options.env, ...this.options.workerEnv };
    const worker = startTs(
      'services/worker/src/main.ts',
      workerProcessEnv(this.database.url, this.prefix, env),
    );
    this.closers.push(() => worker.stop());
  }

  private async startScheduler(logger: Logger): Promise<void> {
    const scheduler = new ProviderScheduler({
      providers: this.providers,
      queue: this.queue,
      lease: new LeaderLease(this.redis, `${this.prefix}:leader`, randomUUID(), 5_000),
      logger,
      tickMs: 60_000,
      reconcileIntervalMs: 3_600_000,
    });
    this.closers.push(() => scheduler.stop());
    const listener = listenForProviderChanges(
      this.database.url,
      () => scheduler.providersChanged(),
      logger,
    );
    this.closers.push(() => listener.close());
    await scheduler.start();
  }
}

/** A CLI stack started before the file's (or the describe block's) tests, closed after them. */
export function useCliStack(options: CliStackOptions): CliStack {
  const stack = new CliStack(options);
  beforeAll(() => stack.start());
  afterAll(() => stack.close());
  return stack;
}

/**
 * A Discogs-like paged API (discogsLikeConfig reads it) of `pages` pages of five events, each
 * answered after `delayMs`, with no request budget to meet.
 */
export async function startSlowPagedApi(pages: number, delayMs: number): Promise<PagedApiServer> {
  const api = await startDiscogsLikeServer({
    events: apiEvents(pages * 5, 'paged'),
    limit: 1_000,
    windowMs: 60_000,
  });
  api.delayMs = delayMs;
  return api;
}

/** `providers add NAME --kind KIND --url URL` and any further options. */
export const providersAdd = (name: string, kind: string, url: string, ...options: string[]) => [
  'providers',
  'add',
  name,
  '--kind',
  kind,
  '--url',
  url,
  ...options,
];

/** `providers test --kind KIND --url URL` and any further options. */
export const providersTest = (kind: string, url: string, ...options: string[]) => [
  'providers',
  'test',
  '--kind',
  kind,
  '--url',
  url,
  ...options,
];

async function runCliInProcess(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line) };
  const context = new CliContext(io, env);
  try {
    const code = await runCli(args, () => context, io);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    await context.close();
  }
}
