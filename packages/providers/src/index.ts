export {
  PayloadError,
  singleDocumentKind,
  type FetchPage,
  type IngestContext,
  type ParseContext,
  type ParseResult,
  type ProviderKind,
  type RejectSample,
} from './kinds/provider-kind.ts';
export {
  getProviderKind,
  parseProviderConfig,
  ProviderConfigError,
  providerKinds,
  UnknownProviderKindError,
} from './kinds/provider.registry.ts';
export { contentFamilyOf } from './kinds/content-family.ts';
export {
  isStreamingKind,
  streamOutcomes,
  type EventBatchSink,
  type ItemOutcome,
  type StreamedParse,
  type StreamingProviderKind,
} from './kinds/streaming-kind.ts';
export {
  isPagedKind,
  type PageCursor,
  type PagedProviderKind,
  type WalkedPage,
} from './kinds/page-walk.ts';
export { ParseResultBuilder } from './kinds/parse-result.builder.ts';
export { parseFeverXml } from './fever/fever.parser.ts';
export { feverXmlOutcomes, parseFeverXmlChunked } from './fever/fever-chunked.parser.ts';
export { feverXml } from './fever/fever-xml.kind.ts';
export { xmlFeed, parseXmlFeed } from './xml/xml-feed.kind.ts';
export { jsonldHtml, parseJsonldPage } from './html/jsonld-html.kind.ts';
export { htmlSelectors } from './html/html-selectors.kind.ts';
export { loadHtml } from './html/html-pages.crawler.ts';
export { ParseLimitError, type ParseLimits } from './kinds/parse.limits.ts';
export { jsonApi, parseJsonPage } from './json/json-api.kind.ts';
export { parseLenientJson } from './json/lenient-json.parser.ts';
export { findPreset, presets, type Preset } from './presets/preset.registry.ts';
