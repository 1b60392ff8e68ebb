import { describe, expect, it } from '@jest/globals';
import {
  feverXml,
  getProviderKind,
  providerKinds,
  UnknownProviderKindError,
} from '../src/index.ts';

describe('provider registry', () => {
  it('finds fever-xml and lists it among the kinds', () => {
    expect(getProviderKind('fever-xml')).toBe(feverXml);
    expect(providerKinds().map((kind) => kind.kind)).toEqual([
      'fever-xml',
      'jsonld-html',
      'html-selectors',
      'json-api',
      'xml-feed',
    ]);
  });

  it('names the known kinds when asked for an unknown one', () => {
    expect(() => getProviderKind('rss')).toThrow(UnknownProviderKindError);
    expect(() => getProviderKind('rss')).toThrow(
      'unknown provider kind "rss"; known kinds: fever-xml, jsonld-html, html-selectors, json-api, xml-feed',
    );
  });
});
