import {
  createDb,
  EventRepository,
  ProviderRepository,
  type Db,
  type DbOptions,
} from '@marquee/db';
import { createTestDatabase, type TestDatabase } from './index.ts';

/** A migrated database of a test file's own, a client on it and the repositories most tests use. */
export interface DatabaseStack {
  database: TestDatabase;
  db: Db;
  providers: ProviderRepository;
  events: EventRepository;
  /** Disconnects and drops the database. */
  close(): Promise<void>;
}

export async function startDatabaseStack(
  label: string,
  dbOptions: Omit<DbOptions, 'databaseUrl'> = {},
): Promise<DatabaseStack> {
  const database = await createTestDatabase(label);
  const db = createDb({ ...dbOptions, databaseUrl: database.url });
  return {
    database,
    db,
    providers: new ProviderRepository(db),
    events: new EventRepository(db),
    async close() {
      await db.$disconnect();
      await database.drop();
    },
  };
}

/** A jest hook (beforeAll, afterEach, …), passed in: this package does not depend on jest. */
export type TestHook = (fn: () => Promise<unknown>) => void;

/**
 * The stack of a whole test file: started by its `beforeAll`, closed by its `afterAll`. Its fields
 * are set once the tests run.
 */
export function databaseStackFor(
  label: string,
  hooks: { beforeAll: TestHook; afterAll: TestHook },
  dbOptions: Omit<DbOptions, 'databaseUrl'> = {},
): DatabaseStack {
  const stack = {} as DatabaseStack;
  let started = false;
  hooks.beforeAll(async () => {
    Object.assign(stack, await startDatabaseStack(label, dbOptions));
    started = true;
  });
  hooks.afterAll(async () => {
    if (started) await stack.close();
  });
  return stack;
}
