import { feverXml } from '../fever/fever-xml.kind.ts';
import { htmlSelectors } from '../html/html-selectors.kind.ts';
import { jsonApi } from '../json/json-api.kind.ts';
import { jsonldHtml } from '../html/jsonld-html.kind.ts';
import { ProviderConfigError } from './provider-config.error.ts';
import type { ProviderKind } from './provider-kind.ts';
import { xmlFeed } from '../xml/xml-feed.kind.ts';

// The registry erases each kind's config type; `parseProviderConfig` restores the invariant by
// validating a provider's config with the kind's own schema before `ingest` sees it.
const KINDS: ReadonlyMap<string, ProviderKind> = new Map(
  [feverXml, jsonldHtml, htmlSelectors, jsonApi, xmlFeed].map((kind) => [
    kind.kind,
    kind as unknown as ProviderKind,
  ]),
);

export class UnknownProviderKindError extends Error {
  override readonly name = 'UnknownProviderKindError';

  constructor(
    readonly kind: string,
    readonly knownKinds: readonly string[],
  ) {
    super(`unknown provider kind "${kind}"; known kinds: ${knownKinds.join(', ')}`);
  }
}

export function getProviderKind(kind: string): ProviderKind {
  const found = KINDS.get(kind);
  if (!found) throw new UnknownProviderKindError(kind, [...KINDS.keys()]);
  return found;
}

export function providerKinds(): ProviderKind[] {
  return [...KINDS.values()];
}

export { ProviderConfigError };

export function parseProviderConfig<Config>(kind: ProviderKind<Config>, config: unknown): Config {
  const result = kind.configSchema.safeParse(config ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(config)'}: ${issue.message}`,
  );
  throw new ProviderConfigError(`invalid ${kind.kind} config: ${problems.join('; ')}`);
}
