export {
  contentHash,
  coreFields,
  details,
  eventId,
  type EventRecord,
  type EventStatus,
  type EventVenue,
} from './event.record.ts';
export { normalizeDedupeKey } from './dedupe-key.ts';
