import type { Command } from 'commander';
import type { CliContext, CliIo } from '../cli.context.ts';

/** `marquee migrate`: applies pending migrations, creating the database when needed. */
export function registerMigrateCommand(program: Command, context: () => CliContext, io: CliIo) {
  program
    .command('migrate')
    .description('apply pending database migrations (creates the database if needed)')
    .action(async () => {
      const ctx = context();
      // The server must answer; the database itself may not exist yet.
      await ctx.db({ allowMissingDatabase: true });
      const { migrate } = await import('@marquee/db');
      const result = await migrate({ databaseUrl: ctx.env.DATABASE_URL, log: io.err });
      io.out(
        result.applied.length === 0
          ? 'database is up to date'
          : `applied ${result.applied.length} migration(s)`,
      );
    });
}
