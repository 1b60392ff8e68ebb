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
export { feverXml, parseFeverXml } from './fever.parser.ts';
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
