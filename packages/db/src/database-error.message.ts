/**
 * What a person may read of a database error: one line, never Prisma's code frame
 * (``Invalid `this.db.syncRun.update()` invocation …``). Prisma's messages open with the call that
 * failed and end with the cause; only the cause is kept. Undefined for errors not from the ORM.
 */
export function describeDatabaseError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (!error.name.startsWith('PrismaClient') && error.name !== 'DriverAdapterError')
    return undefined;
  const cause = error.message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .at(-1);
  return `database error: ${cause ?? error.name}`;
}
