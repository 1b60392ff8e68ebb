export { CliContext, type CliIo } from './cli.context.ts';
export { CommandFailed, UnreachableError, UsageError } from './cli.errors.ts';
export { buildProgram, runCli, VERSION } from './program.ts';
export {
  applyProviderFile,
  applyProviders,
  formatApplyResult,
  type ApplyOptions,
} from './commands/providers-apply.command.ts';
export { ManifestError } from './provider-manifest.parser.ts';
