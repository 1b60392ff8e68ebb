import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { CORE_SCHEMA, load as loadYaml } from 'js-yaml';
import type { NewProvider } from '@marquee/db';
import { getProviderKind } from '@marquee/providers';
import { UsageError } from './cli.errors.ts';
import {
  checkEvery,
  checkKind,
  checkName,
  checkTimezone,
  checkUrl,
  checkUrlAddress,
  parseKindConfig,
} from './provider.input.ts';

/** Keys an entry of a providers file may have; anything else is refused, naming the key. */
const ENTRY_KEYS = new Set(['name', 'kind', 'url', 'every', 'timezone', 'config', 'enabled']);
const DEFAULT_EVERY = '5m';
const DEFAULT_TIMEZONE = 'UTC';
/** More problems than this are summed up: a wholly wrong file needs one screen, not thousands. */
const MAX_REPORTED = 20;

/** A providers file that cannot be applied; each line names the entry and the field. */
export class ManifestError extends UsageError {
  override name = 'ManifestError';

  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    const shown = problems.slice(0, MAX_REPORTED);
    const more = problems.length - shown.length;
    super(
      [
        `${file}: nothing applied, ${problems.length} problem(s):`,
        ...shown.map((problem) => `  ${problem}`),
        ...(more > 0 ? [`  … and ${more} more`] : []),
      ].join('\n'),
    );
  }
}

/** Reads a providers file, YAML or JSON (by extension; YAML otherwise, which JSON also is). */
export async function readManifestFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`-f: cannot read ${file}: ${(error as NodeJS.ErrnoException).code}`);
  }
  try {
    // The core schema: strings, numbers, booleans and null; no dates or other YAML-only types.
    return extname(file).toLowerCase() === '.json'
      ? JSON.parse(text)
      : loadYaml(text, { schema: CORE_SCHEMA, filename: file });
  } catch (error) {
    const format = extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML';
    throw new UsageError(`${file} is not valid ${format}: ${(error as Error).message}`);
  }
}

/**
 * Validates a whole providers document (a list, or `{providers: [...]}`) before anything is
 * written: every problem of every entry is collected, so one run shows them all.
 */
export async function parseManifest(
  document: unknown,
  options: { file: string; allowPrivate: boolean },
): Promise<NewProvider[]> {
  const entries = entriesOf(document);
  if (entries === undefined) {
    throw new ManifestError(options.file, [
      'the file must hold a list of providers or an object with a "providers" list',
    ]);
  }
  // Per entry: the checks finish in any order (address lookups); the report is in file order.
  const entryProblems: string[][] = entries.map(() => []);
  const addressChecks = new AddressChecks(options.allowPrivate);
  const parsed = await Promise.all(
    entries.map(async (entry, index) => {
      const label = entryLabel(entry, index);
      try {
        return await parseEntry(entry, addressChecks);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        entryProblems[index]?.push(`${label}: ${error.message}`);
        return undefined;
      }
    }),
  );
  for (const [index, problem] of duplicateNames(entries)) entryProblems[index]?.push(problem);
  const problems = entryProblems.flat();
  if (problems.length > 0) throw new ManifestError(options.file, problems);
  return parsed.filter((entry) => entry !== undefined);
}

function entriesOf(document: unknown): unknown[] | undefined {
  if (Array.isArray(document)) return document as unknown[];
  if (document === null || document === undefined) return [];
  if (typeof document === 'object' && 'providers' in document) {
    const { providers } = document;
    if (Array.isArray(providers)) return providers as unknown[];
    if (providers === null) return [];
  }
  return undefined;
}

function entryLabel(entry: unknown, index: number): string {
  const name = (entry as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? `entry ${index + 1} (${name})` : `entry ${index + 1}`;
}

async function parseEntry(entry: unknown, addressChecks: AddressChecks): Promise<NewProvider> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    throw new UsageError('must be an object with name, kind and url');
  const fields = entry as Record<string, unknown>;
  const unknownKey = Object.keys(fields).find((key) => !ENTRY_KEYS.has(key));
  if (unknownKey !== undefined)
    throw new UsageError(`unknown field "${unknownKey}" (known: ${[...ENTRY_KEYS].join(', ')})`);
  const name = checkName(text(fields, 'name'));
  const kind = checkKind(text(fields, 'kind'));
  const url = checkUrl(text(fields, 'url'), 'url');
  const every = fields.every ?? DEFAULT_EVERY;
  if (typeof every !== 'string' && typeof every !== 'number')
    throw new UsageError('every: must be a duration such as "30s", "5m" or a number of seconds');
  const config = fields.config ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new UsageError('config: must be an object');
  const enabled = fields.enabled ?? true;
  if (typeof enabled !== 'boolean') throw new UsageError('enabled: must be true or false');
  const provider: NewProvider = {
    name,
    kind,
    url,
    everySeconds: checkEvery(String(every), 'every'),
    timezone: checkTimezone(text(fields, 'timezone', DEFAULT_TIMEZONE), 'timezone'),
    config: parseKindConfig(getProviderKind(kind), config as Record<string, unknown>, 'config'),
    enabled,
  };
  await addressChecks.check(url);
  return provider;
}

function text(fields: Record<string, unknown>, key: string, fallback?: string): string {
  const value = fields[key] ?? fallback;
  if (value === undefined) throw new UsageError(`${key}: missing`);
  if (typeof value !== 'string') throw new UsageError(`${key}: must be a string`);
  return value;
}

function duplicateNames(entries: unknown[]): [index: number, problem: string][] {
  const seen = new Map<string, number>();
  const problems: [number, string][] = [];
  entries.forEach((entry, index) => {
    const name = (entry as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    const first = seen.get(name);
    if (first === undefined) seen.set(name, index);
    else
      problems.push([index, `entry ${index + 1} (${name}): name: the same as entry ${first + 1}`]);
  });
  return problems;
}

/** The SSRF guard once per host: a file of 10,000 providers on one site resolves it once. */
class AddressChecks {
  private readonly byHost = new Map<string, Promise<string>>();

  constructor(private readonly allowPrivate: boolean) {}

  check(url: string): Promise<string> {
    const { host } = new URL(url);
    let check = this.byHost.get(host);
    if (check === undefined) {
      check = checkUrlAddress(url, this.allowPrivate, 'url');
      this.byHost.set(host, check);
    }
    return check;
  }
}
