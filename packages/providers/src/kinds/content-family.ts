import type { ContentFamily } from '@marquee/fetch';

/** Kinds by the family of document they parse; a kind not listed is not checked. */
const KIND_FAMILIES: Readonly<Record<string, ContentFamily>> = {
  'fever-xml': 'xml',
  'xml-feed': 'xml',
  'json-api': 'json',
  'jsonld-html': 'html',
  'html-selectors': 'html',
};

export function contentFamilyOf(kind: string): ContentFamily | undefined {
  return KIND_FAMILIES[kind];
}
