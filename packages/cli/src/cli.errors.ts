import { CommanderError } from 'commander';
import { ConfigError } from '@marquee/config';
// Not from '@marquee/db' itself: that loads Prisma's client, which --help must not wait for.
import { describeDatabaseError } from '@marquee/db/database-error';

/** A mistake in what the user typed: printed as is, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A command that ran but did not succeed (a failed sync): exit code 1. */
export class CommandFailed extends Error {
  override name = 'CommandFailed';
}

/** PostgreSQL or Redis did not answer: the message names which and where, exit code 1. */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The exit code for what a command threw: 2 for what the user typed, 1 for anything else. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof UsageError || error instanceof ConfigError) return EXIT.usage;
  return EXIT.failed;
}

/**
 * What the user reads: one line (a usage error's list of problems excepted), never a stack trace
 * or an ORM's code frame (describeDatabaseError).
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const database = describeDatabaseError(error);
  if (database !== undefined) return database;
  // A usage error is ours, written for the user: a list of problems (a providers file) stays whole.
  if (error instanceof UsageError) return error.message;
  const first = error.message.trim().split('\n')[0]?.trim();
  return first === undefined || first === '' ? error.name : first;
}
