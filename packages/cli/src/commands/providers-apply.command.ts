import type { Command } from 'commander';
import type { ApplyResult, Db } from '@marquee/db';
import type { CliContext, CliIo } from '../cli.context.ts';

export interface ApplyOptions {
  /** Remove the providers the document does not name. */
  prune?: boolean;
  /** Accept URLs on private addresses (`ALLOW_PRIVATE_PROVIDERS`). */
  allowPrivate?: boolean;
  /** Named in error messages; `providers` when the document did not come from a file. */
  file?: string;
}

/**
 * Providers as code, in process: validates the whole document (a list or `{providers: [...]}`)
 * and then makes the providers table match it in one transaction. Throws a ManifestError (a
 * UsageError) naming each bad entry and field, having changed nothing.
 */
export async function applyProviders(
  db: Db,
  document: unknown,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const { parseManifest } = await import('../provider-manifest.parser.ts');
  const { ProviderRepository } = await import('@marquee/db');
  const wanted = await parseManifest(document, {
    file: options.file ?? 'providers',
    allowPrivate: options.allowPrivate ?? false,
  });
  return new ProviderRepository(db).applyAll(wanted, { prune: options.prune ?? false });
}

/** `applyProviders` on a YAML or JSON file. */
export async function applyProviderFile(
  db: Db,
  file: string,
  options: Omit<ApplyOptions, 'file'> = {},
): Promise<ApplyResult> {
  const { readManifestFile } = await import('../provider-manifest.parser.ts');
  return applyProviders(db, await readManifestFile(file), { ...options, file });
}

export function formatApplyResult(result: ApplyResult): string {
  return `created ${result.created}, updated ${result.updated}, unchanged ${result.unchanged}, removed ${result.removed}`;
}

/** `marquee providers apply -f FILE [--prune]`. */
export function registerProvidersApplyCommand(
  providers: Command,
  context: () => CliContext,
  io: CliIo,
) {
  providers
    .command('apply')
    .description('create or update providers from a YAML or JSON file; all or nothing')
    .requiredOption('-f, --file <file>', 'providers file: a list of {name, kind, url, ...}')
    .option('--prune', 'also remove the providers the file does not name')
    .action(async (options: { file: string; prune?: boolean }) => {
      const ctx = context();
      const { parseManifest, readManifestFile } = await import('../provider-manifest.parser.ts');
      const { ProviderRepository } = await import('@marquee/db');
      // The file is read and checked before PostgreSQL is touched.
      const document = await readManifestFile(options.file);
      const wanted = await parseManifest(document, {
        file: options.file,
        allowPrivate: ctx.env.ALLOW_PRIVATE_PROVIDERS,
      });
      const result = await new ProviderRepository(await ctx.db()).applyAll(wanted, {
        prune: options.prune === true,
      });
      io.out(formatApplyResult(result));
    });
}
