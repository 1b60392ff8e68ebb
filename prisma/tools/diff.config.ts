// Config for Prisma 6.19's wasm schema engine, used only to author and check migration SQL
// (`pnpm db:diff`): Prisma 7 dropped the wasm engine and its CLI needs a native engine that
// cannot be downloaded everywhere. The js engine insists on a driver adapter even for
// `migrate diff --from-empty`, so it gets one for DATABASE_URL; nothing is written there.
import { PrismaPg } from 'prisma-legacy-adapter-pg';
import { defineConfig } from 'prisma-legacy-config';

export default defineConfig({
  schema: '../schema.prisma',
  engine: 'js',
  experimental: { adapter: true },
  adapter: () =>
    Promise.resolve(
      new PrismaPg({
        connectionString:
          process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
        // The CLI exits only once the pool is idle-empty.
        idleTimeoutMillis: 100,
      }),
    ),
});
