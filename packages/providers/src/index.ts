export {
  PayloadError,
  REJECT_SAMPLE_LIMIT,
  singleDocumentKind,
  type FetchPage,
  type IngestContext,
  type ParseContext,
  type ParseResult,
  type ProviderKind,
  type RejectSample,
} from './provider-kind.ts';
export {
  getProviderKind,
  parseProviderConfig,
  ProviderConfigError,
  providerKinds,
  UnknownProviderKindError,
} from './provider.registry.ts';
export { parseFeverXml } from './fever.parser.ts';
export { feverXml, feverXmlOutcomes, parseFeverXmlChunked } from './fever-chunked.parser.ts';
export {
  isStreamingKind,
  streamOutcomes,
  type EventBatchSink,
  type ItemOutcome,
  type StreamedParse,
  type StreamingProviderKind,
} from './streaming-kind.ts';
export { zonedLocalMillis } from './zoned-time.parser.ts';
export {
  classifyError,
  fetchPayload,
  FetchError,
  MAX_REDIRECTS,
  parseRetryAfter,
  type FetchErrorClassification,
  type FetchedPayload,
  type FetchOptions,
} from './http.fetcher.ts';
export {
  ADDRESS_REFUSED_CODE,
  AddressRefusedError,
  assertUrlAllowed,
  guardedLookup,
  refusalReason,
  type AddressPolicy,
} from './address.guard.ts';
export { assertNoDoctypeDeclarations, XML_MAX_DEPTH, XML_PARSER_LIMITS } from './xml.limits.ts';
export { assertContentType, contentFamilyOf, type ContentFamily } from './content-type.guard.ts';
export { jsonldHtml, parseJsonldPage, extractSchemaEvents } from './jsonld-html.kind.ts';
export { htmlSelectors, parseHtmlSelectorsPage } from './html-selectors.kind.ts';
export { jsonApi, parseJsonPage } from './json-api.kind.ts';
export { xmlFeed, parseXmlFeed } from './xml-feed.kind.ts';
export { loadHtml } from './html-pages.crawler.ts';
export { parseLenientJson } from './lenient-json.parser.ts';
export { parseEventTime } from './event-time.parser.ts';
export { findPreset, presets, type Preset } from './preset.registry.ts';
export { ParseResultBuilder } from './parse-result.builder.ts';
