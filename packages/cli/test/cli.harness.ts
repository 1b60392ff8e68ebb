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
import { parseEnv } from '@marquee/config';
import { createLogger, type Logger } from '@marquee/logger';
import { LeaderLease, listenForProviderChanges, ProviderScheduler } from '@marquee/scheduler';
import {
  apiEvents,
  eventRecord,
  runMarquee,
  startDiscogsLikeServer,
  startFeedServer,
  startQueueStack,
  startTs,
  TEST_REDIS_URL,
  workerProcessEnv,
  workerTestEnv,
  type CommandResult,
  type FeedHandler,
  type FeedServer,
  type PagedApiServer,
  type QueueStack,
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
  /** A paged stand-in API (startPagedApi, `startVivenuLikeServer`): `stack.api`. */
  api?: () => Promise<PagedApiServer>;
  /** A worker: `runtime` in this process (createWorkerRuntime), `process` the worker service. */
  worker?: 'runtime' | 'process';
  /** Worker variables on top of workerTestEnv's. */
  workerEnv?: NodeJS.ProcessEnv;
  /** The scheduler's ProviderScheduler with its change listener (reconciling on NOTIFY). */
  scheduler?: boolean;
}

/** What `marquee` printed on each stream (lines joined by `\n`) and its exit code. */
interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** `marquee`, in this process or as a process, with the stack's environment. */
interface CliRunner {
  /** In this process, as main.ts runs it. */
  marquee(...args: string[]): Promise<CliResult>;
  /** As users run it: its bin, which runs the CLI bundle (rebuilt first when a source is newer). */
  bin(...args: string[]): Promise<CommandResult>;
}

/**
 * The stack's parts, as its options ask (a part not asked for is undefined), and `marquee` run
 * with its environment. With a database (the default) it is a QueueStack as well.
 */
export interface CliStack extends QueueStack, CliRunner {
  feed: FeedServer;
  api: PagedApiServer;
  /** A folder of its own, removed with the stack. */
  dir: string;
  /** `marquee` with these variables on top of the stack's. */
  with(extra: NodeJS.ProcessEnv): CliRunner;
  /** Writes `text` to a file of the stack's folder; returns its path. */
  file(name: string, text: string): string;
  /** Writes `value` as JSON to a file of the stack's folder (a `--config`); returns its path. */
  jsonFile(name: string, value: unknown): string;
  /** Stores one event of the provider, through the repository ingestion writes with. */
  storeEvent(provider: { id: string; name: string }): Promise<void>;
}

/** What closes the stack: each part's close, in the order started; they run last first. */
type Closers = (() => Promise<unknown>)[];

async function startCliStack(options: CliStackOptions, closers: Closers): Promise<CliStack> {
  const dir = mkdtempSync(join(tmpdir(), `marquee-${options.label}-`));
  closers.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  const store = options.database === false ? undefined : await startQueueStack(options.label);
  if (store) closers.push(() => store.close());
  const env = {
    ...(store && { DATABASE_URL: store.database.url, QUEUE_PREFIX: store.prefix }),
    REDIS_URL: TEST_REDIS_URL,
    ALLOW_PRIVATE_PROVIDERS: 'true',
    ...options.env,
  };
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const stack = {
    ...(store as QueueStack),
    ...runner(env),
    dir,
    with: (extra: NodeJS.ProcessEnv) => runner({ ...env, ...extra }),
    file,
    jsonFile: (name: string, value: unknown) => file(name, JSON.stringify(value)),
    storeEvent: async (provider: { id: string; name: string }) =>
      void (await store!.events.upsertMany(provider, [eventRecord()], new Date())),
    feed: options.feed && (await opened(closers, startFeedServer(options.feed))),
    api: options.api && (await opened(closers, options.api())),
    close: () => closeAll(closers),
  } as CliStack;
  await startServices(stack, options, closers);
  return stack;
}

/** The worker and the scheduler the options ask for, on the stack's database and queue. */
async function startServices(stack: CliStack, options: CliStackOptions, closers: Closers) {
  const logger = createLogger({ service: `${options.label}-test`, level: 'error' });
  if (options.worker === 'runtime') closers.push(startWorkerRuntime(stack, options, logger));
  if (options.worker === 'process') {
    const env = { ...options.env, ...options.workerEnv };
    const worker = startTs(
      'services/worker/src/main.ts',
      workerProcessEnv(stack.database.url, stack.prefix, env),
    );
    closers.push(() => worker.stop());
  }
  if (options.scheduler) await startScheduler(stack, logger, closers);
}

function startWorkerRuntime(stack: CliStack, options: CliStackOptions, logger: Logger) {
  const env = workerTestEnv(stack.database.url, stack.prefix, options.workerEnv);
  const runtime = createWorkerRuntime(parseEnv(workerEnvSchema, env), {
    logger,
    db: stack.db,
    redis: stack.redis,
  });
  const worker = runtime.createWorker();
  void worker.run();
  return async () => {
    await worker.close();
    await runtime.close();
  };
}

async function startScheduler(stack: CliStack, logger: Logger, closers: Closers) {
  const scheduler = new ProviderScheduler({
    providers: stack.providers,
    queue: stack.queue,
    lease: new LeaderLease(stack.redis, `${stack.prefix}:leader`, randomUUID(), 5_000),
    logger,
    tickMs: 60_000,
    reconcileIntervalMs: 3_600_000,
  });
  closers.push(() => scheduler.stop());
  const listener = listenForProviderChanges(
    stack.database.url,
    () => scheduler.providersChanged(),
    logger,
  );
  closers.push(() => listener.close());
  await scheduler.start();
}

async function opened<T extends { close(): Promise<unknown> }>(
  closers: Closers,
  starting: Promise<T>,
): Promise<T> {
  const part = await starting;
  closers.push(() => part.close());
  return part;
}

async function closeAll(closers: Closers): Promise<void> {
  for (const close of closers.splice(0).reverse()) await close();
}

function runner(env: NodeJS.ProcessEnv): CliRunner {
  return {
    marquee: (...args) => runCliInProcess(args, env),
    bin: (...args) => runMarquee(args, { PATH: process.env.PATH, HOME: process.env.HOME, ...env }),
  };
}

/** A CLI stack started before the file's (or the describe block's) tests, closed after them. */
export function useCliStack(options: CliStackOptions): CliStack {
  // Filled in before the tests run: a test reads it in its hooks and tests only.
  const stack = {} as CliStack;
  const closers: Closers = [];
  beforeAll(async () => void Object.assign(stack, await startCliStack(options, closers)));
  afterAll(() => closeAll(closers));
  return stack;
}

/**
 * A Discogs-like paged API (pagedApiConfig reads it): `pages` pages of `perPage` events (5 unless
 * said), each answered after `delayMs` (0 unless said), and no request budget to meet unless
 * `limit` requests per `windowMs`.
 */
export function startPagedApi(options: {
  pages: number;
  perPage?: number;
  delayMs?: number;
  limit?: number;
  windowMs?: number;
}): () => Promise<PagedApiServer> {
  const { pages, perPage = 5, limit = 1_000, windowMs = 60_000 } = options;
  return async () => {
    const events = apiEvents(pages * perPage, 'paged');
    const api = await startDiscogsLikeServer({ events, perPage, limit, windowMs });
    api.delayMs = options.delayMs ?? 0;
    return api;
  };
}

/** A json-api provider config walking startPagedApi's pages; `extra` sets any other field. */
export const pagedApiConfig = (extra: Record<string, unknown> = {}) => ({
  items: 'results',
  fields: { id: 'id', title: 'title', start: 'date', venueName: 'venue.name' },
  pagination: { type: 'page', pageParam: 'page', totalPagesPath: 'pagination.pages' },
  ...extra,
});

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
