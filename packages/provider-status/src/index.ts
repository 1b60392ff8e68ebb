export {
  breakerKey,
  readBreakerStatuses,
  writeBreakerStatus,
  type BreakerState,
  type BreakerStatus,
} from './breaker-state.store.ts';
export {
  breakerReader,
  camelCase,
  describeBreaker,
  toBreakerView,
  ProviderStatusReader,
  type BreakerReader,
  type BreakerView,
  type LastSyncView,
  type ProviderStatusReaderOptions,
  type ProviderStatusReport,
  type ProviderStatusView,
} from './provider-status.reader.ts';
