import { feverXml } from './fever.parser.ts';
import type { ProviderKind } from './provider-kind.ts';

const KINDS: ReadonlyMap<string, ProviderKind> = new Map(
  [feverXml].map((kind) => [kind.kind, kind]),
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
