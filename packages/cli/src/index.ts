export { CliContext, type CliIo } from './cli.context.ts';
export { CommandFailed, UnreachableError, UsageError } from './cli.errors.ts';
export { buildProgram, runCli, VERSION } from './program.ts';
