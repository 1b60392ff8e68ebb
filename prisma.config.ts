import { defineConfig } from 'prisma/config';

// Prisma 7 reads the connection URL from here, not from the schema. Migrations are applied by
// `pnpm marquee migrate` (packages/db migration runner) on machines without Prisma's native
// schema engine, and by `prisma migrate deploy` where the engine can be had; both keep the
// same `_prisma_migrations` bookkeeping.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/marquee',
  },
});
