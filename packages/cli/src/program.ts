import { Command, CommanderError } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import type { CliContext, CliIo } from './cli.context.ts';
import { describeError, exitCodeOf } from './cli.errors.ts';
import { registerJobsCommand } from './commands/jobs.command.ts';
import { registerKeysCommand } from './commands/keys.command.ts';
import { registerMigrateCommand } from './commands/migrate.command.ts';
import { registerProvidersCommand } from './commands/providers.command.ts';
import { registerSyncCommand } from './commands/sync.command.ts';
import { registerWebhooksCommand } from './commands/webhooks.command.ts';

export const VERSION = packageJson.version;

/**
 * The `marquee` command tree; each command lives in commands/<name>.command.ts and imports its
 * libraries (Prisma, BullMQ, the provider kinds, got) inside its action, so `--help`, `--version`
 * and usage errors load none of them.
 */
export function buildProgram(context: () => CliContext, io: CliIo): Command {
  const program = new Command('marquee')
    .description('Marquee: ingest event listings from providers into one catalog')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.trimEnd()),
      writeErr: (text) => io.err(text.trimEnd()),
    })
    .addHelpText(
      'after',
      '\nExit codes: 0 success, 1 the command failed (or PostgreSQL/Redis unreachable), 2 bad usage.',
    );
  registerMigrateCommand(program, context, io);
  registerProvidersCommand(program, context, io);
  registerSyncCommand(program, context, io);
  registerKeysCommand(program, context, io);
  registerJobsCommand(program, context, io);
  registerWebhooksCommand(program, context, io);
  return program;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 failed, 2 usage). */
export async function runCli(
  argv: string[],
  context: () => CliContext,
  io: CliIo,
): Promise<number> {
  const program = buildProgram(context, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    const code = exitCodeOf(error);
    // Commander printed its own message (usage errors, --help, --version).
    if (!(error instanceof CommanderError)) io.err(`error: ${describeError(error)}`);
    return code;
  }
}
