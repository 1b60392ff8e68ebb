export {
  contentHash,
  details,
  eventId,
  type EventRecord,
  type EventStatus,
  type EventVenue,
} from './event.record.ts';
export { DEDUPE_KEY_MAX_LENGTH, normalizeDedupeKey } from './dedupe-key.ts';
