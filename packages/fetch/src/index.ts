export {
  BudgetWaitError,
  fetchPayload,
  FetchError,
  parseRetryAfter,
  type FetchErrorClassification,
  type FetchedPayload,
  type FetchOptions,
} from './http.fetcher.ts';
export {
  AddressRefusedError,
  assertUrlAllowed,
  guardedLookup,
  refusalReason,
  type AddressPolicy,
} from './address.guard.ts';
export { assertContentType, type ContentFamily } from './content-type.guard.ts';
export { createPagePacer } from './page-pacer.ts';
export { PayloadBudget, type PayloadHold } from './payload.budget.ts';
export { RobotsGuard, type RobotsGuardOptions } from './robots.guard.ts';
export { HostBusyError, HostLeaseGate, type HostLeaseOptions } from './host-lease.gate.ts';
export {
  BreakerOpenError,
  BreakerRegistry,
  type BreakerOptions,
  type BreakerState,
  type BreakerStatus,
} from './breaker.registry.ts';
export { postGuarded, type PostOptions, type PostResult } from './guarded-post.ts';
