export { CliContext, type CliIo } from './cli.context.ts';
export { buildProgram, CommandFailed, runCli } from './program.ts';
export { UsageError } from './provider.input.ts';
