export { startFeedServer, type FeedHandler, type FeedServer } from './feed.server.ts';
export {
  eventually,
  freePort,
  REPO_ROOT,
  runMarquee,
  runNode,
  runTs,
  startNode,
  startTs,
  type CommandResult,
  type LongRunning,
} from './process.runner.ts';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '@marquee/db';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

const ADMIN_URL =
  process.env.TEST_DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/**
 * A fresh, migrated database of its own for one test file; `drop()` removes it. With
 * `migrate: false` only the name is reserved: the database does not exist until the code under
 * test creates it.
 */
export async function createTestDatabase(
  label: string,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const name =
    `marquee_test_${label.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`.toLowerCase();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  if (options.migrate !== false) await migrate({ databaseUrl: url.toString() });
  return {
    url: url.toString(),
    name,
    async drop() {
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A queue prefix no other test file uses, so BullMQ keys never collide. */
export function uniquePrefix(label: string): string {
  return `mqt-${label.replace(/\W/g, '-')}-${randomBytes(4).toString('hex')}`;
}
export {
  CHAOS_FAULTS,
  feverFeed,
  startChaosServer,
  type ChaosFault,
  type ChaosOptions,
  type ChaosServer,
} from './chaos.server.ts';
export {
  apiEvents,
  startDiscogsLikeServer,
  startVivenuLikeServer,
  type ApiEvent,
  type PagedApiServer,
} from './paged-api.server.ts';
export {
  JobRunner,
  TEST_REDIS_URL,
  workerProcessEnv,
  workerTestEnv,
  type JobOutcome,
  type JobProcessor,
} from './worker.harness.ts';
export { feverFixture, type FeverFixture } from './fever.fixtures.ts';
export {
  completedJob,
  removeQueue,
  startQueueStack,
  syncOnce,
  type QueueStack,
} from './queue.stack.ts';
export { startRedisServer, type RedisServer } from './redis.server.ts';
export {
  startService,
  startWorkerProcess,
  untilReadyz,
  type ServiceName,
} from './service.runner.ts';
export { feverProvider } from './provider.inputs.ts';
export { eventRecord } from './event.records.ts';
export {
  databaseStackFor,
  startDatabaseStack,
  type DatabaseStack,
  type TestHook,
} from './database.stack.ts';
export { feedServersPerTest } from './feed-server.pool.ts';
export { thrownBy } from './thrown.error.ts';
