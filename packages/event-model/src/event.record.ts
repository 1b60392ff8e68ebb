import { hash } from 'node:crypto';

/** One normalized event as a provider kind produces it. */
export interface EventRecord {
  /** The provider's own key, stable across payloads (Fever: "<base_event_id>/<event_id>"). */
  externalKey: string;
  title: string;
  startsAt: Date;
  endsAt: Date | null;
  /** IANA zone of the provider's local times. */
  timezone: string;
  /** Decimal strings ("20.00"); null means unknown, never zero. */
  minPrice: string | null;
  maxPrice: string | null;
  currency: string | null;
  /** On sale online in this payload; an event is searchable once this was ever true. */
  online: boolean;
  // Details the richer kinds carry (Fever has none of them): absent means unknown.
  /** `startsAt`/`endsAt` are dates without a time of day, at local midnight in `timezone`. */
  allDay?: boolean;
  url?: string | null;
  venue?: EventVenue | null;
  performers?: readonly string[];
  status?: EventStatus | null;
  /**
   * The provider's shared code of the event (its `dedupeKey`), as `normalizeDedupeKey` gives it:
   * events of any providers with equal codes are one canonical event.
   */
  dedupeKey?: string | null;
}

export type EventStatus = 'scheduled' | 'cancelled' | 'postponed';

export interface EventVenue {
  name: string | null;
  address: string | null;
  city: string | null;
  country: string | null;
  lat: number | null;
  lon: number | null;
}

/** The details columns of one event, null/empty when unknown. */
export function details(event: EventRecord) {
  const venue = event.venue ?? null;
  return {
    allDay: event.allDay ?? false,
    url: event.url ?? null,
    venueName: venue?.name ?? null,
    venueAddress: venue?.address ?? null,
    venueCity: venue?.city ?? null,
    venueCountry: venue?.country ?? null,
    venueLat: venue?.lat ?? null,
    venueLon: venue?.lon ?? null,
    performers: event.performers ?? [],
    status: event.status ?? null,
  };
}

function hasDetails(event: EventRecord): boolean {
  return (
    event.allDay !== undefined ||
    event.url !== undefined ||
    event.venue !== undefined ||
    event.performers !== undefined ||
    event.status !== undefined
  );
}

// Fixed namespace for public event ids: UUID v5 (RFC 9562) of "<provider name>\n<external key>".
const EVENT_ID_NAMESPACE = Buffer.from('1b4f0f9e8d514c559a535b0e2c7d9a10', 'hex');
/** The namespace followed by the name being hashed; grown when a name does not fit. */
let idInput = Buffer.alloc(1024);
EVENT_ID_NAMESPACE.copy(idInput);

/**
 * Public id of an event: the same key gives the same UUID on every machine, forever. UUID v5
 * computed with one one-shot SHA-1 over a reused buffer (a third of the `uuid` package's time
 * per id; equal output, pinned by a test).
 */
export function eventId(providerName: string, externalKey: string): string {
  const name = `${providerName}\n${externalKey}`;
  const size = EVENT_ID_NAMESPACE.length + Buffer.byteLength(name, 'utf8');
  if (size > idInput.length) {
    idInput = Buffer.alloc(size * 2);
    EVENT_ID_NAMESPACE.copy(idInput);
  }
  idInput.write(name, EVENT_ID_NAMESPACE.length, 'utf8');
  const digest = hash('sha1', idInput.subarray(0, size), 'hex');
  // Version 5 in the 13th hex digit, variant 10xx in the 17th.
  const variant = ((parseInt(digest.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${digest.slice(0, 8)}-${digest.slice(8, 12)}-5${digest.slice(13, 16)}-${variant}${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
}

/**
 * The stored scalar columns every event has, in column order (title … online): what the COPY
 * line writes and what the content hash covers first.
 */
export function coreFields(event: EventRecord) {
  return [
    event.title,
    event.startsAt.toISOString(),
    event.endsAt?.toISOString() ?? null,
    event.timezone,
    event.minPrice,
    event.maxPrice,
    event.currency,
    event.online,
  ] as const;
}

/** `core`: the event's coreFields when the caller has them already (a COPY line does). */
export function contentHash(
  event: EventRecord,
  core: ReturnType<typeof coreFields> = coreFields(event),
): string {
  // One-shot hash: no Hash object per event (the same digest as createHash's).
  return hash(
    'sha256',
    JSON.stringify([
      ...core,
      // Only events with details hash them, so hashes of detail-less (Fever) events written
      // before the details existed stay equal and their re-ingest writes nothing.
      ...(hasDetails(event) ? [details(event)] : []),
      // Likewise only events with a shared code hash it.
      ...(event.dedupeKey != null ? [event.dedupeKey] : []),
    ]),
    'base64url',
  );
}
