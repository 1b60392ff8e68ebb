// Large, realistic provider feeds for the ingestion benchmarks: `pnpm bench:gen`.
//
// N events (sessions) grouped under base events, each with 1-5 priced zones, in the Fever XML
// format (the <eventList> form) and a JSON API format carrying the same data. Two snapshots: "a",
// and "b" where a fixed share of the events changed (end time moved, so exactly those events'
// content changes). Everything derives from a seeded RNG: the same options give the same bytes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FeedOptions {
  /** Events (sessions, `<event>` elements), spread over base events of 1-8 sessions each. */
  events: number;
  /** Share of events whose content differs in snapshot "b" (0..1). */
  changedShare: number;
  seed: number;
}

export interface GeneratedFeeds {
  /** Snapshot "a" and "b" in Fever XML. */
  feverA: Buffer;
  feverB: Buffer;
  /** The same snapshots in the JSON API format. */
  jsonA: Buffer;
  jsonB: Buffer;
  events: number;
  baseEvents: number;
  /** Events whose content differs between "a" and "b". */
  changed: number;
}

/** mulberry32: tiny, fast and good enough for test data; deterministic across machines. */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const ARTISTS = [
  'Camela',
  'Los Morancos',
  'Pantomima Full',
  'Rosalía',
  'Vetusta Morla',
  'Orquesta Sinfónica',
  'Candlelight',
  'Jazz & Blues Trío',
  'Ballet Nacional',
  'Coro "Voces" del Sur',
];
const FORMATS = ['en concierto', 'tributo', 'gira 2027', 'en directo', 'sesión íntima', 'show'];
const ZONES = ['Platea', 'Grada 1', 'Grada 2', 'Anfiteatro', 'Palco', 'Pista', 'VIP'];

interface Zone {
  id: number;
  name: string;
  capacity: number;
  price: string;
}
interface Session {
  id: number;
  start: string;
  end: string;
  zones: Zone[];
}
interface BaseEvent {
  id: number;
  title: string;
  online: boolean;
  sessions: Session[];
}

const pad = (n: number) => String(n).padStart(2, '0');
function localIso(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:00`;
}

function buildCatalog(options: FeedOptions): BaseEvent[] {
  const random = rng(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const bases: BaseEvent[] = [];
  const epoch = Date.UTC(2027, 0, 1);
  let remaining = options.events;
  // 1 is the id that repeats across base events; the others start after it.
  let sessionId = 2;
  while (remaining > 0) {
    const count = Math.min(remaining, 1 + Math.floor(random() * 8));
    remaining -= count;
    const base: BaseEvent = {
      id: 1000 + bases.length,
      title: `${pick(ARTISTS)} ${pick(FORMATS)}`,
      online: random() < 0.9,
      sessions: [],
    };
    let day = epoch + Math.floor(random() * 365) * 86_400_000;
    for (let s = 0; s < count; s += 1) {
      day += (1 + Math.floor(random() * 3)) * 86_400_000;
      const start = day + (17 + Math.floor(random() * 5)) * 3_600_000;
      const zones: Zone[] = [];
      const zoneCount = 1 + Math.floor(random() * 5);
      for (let z = 0; z < zoneCount; z += 1) {
        zones.push({
          id: 10 + z,
          name: pick(ZONES),
          capacity: Math.floor(random() * 500),
          price: (5 + Math.floor(random() * 9000) / 100).toFixed(2),
        });
      }
      // Session ids repeat across base events in real feeds; keys are (base, session).
      const id = random() < 0.1 ? 1 : sessionId++;
      base.sessions.push({
        id,
        start: localIso(start),
        end: localIso(start + (60 + Math.floor(random() * 4) * 30) * 60_000),
        zones,
      });
    }
    // Unique keys: a repeated session id inside one base event would be a duplicate.
    const ids = new Set<number>();
    for (const session of base.sessions) {
      if (ids.has(session.id)) session.id = sessionId++;
      ids.add(session.id);
    }
    bases.push(base);
  }
  return bases;
}

/** Returns a copy of the catalog where `changed` sessions, chosen by the RNG, end 15 min later. */
function changeSome(
  bases: BaseEvent[],
  options: FeedOptions,
): { bases: BaseEvent[]; changed: number } {
  const random = rng(options.seed ^ 0x5bd1e995);
  const sessions = bases.flatMap((base) => base.sessions);
  const target = Math.round(sessions.length * options.changedShare);
  const chosen = new Set<Session>();
  while (chosen.size < target) {
    chosen.add(sessions[Math.floor(random() * sessions.length)] as Session);
  }
  const next = bases.map((base) => ({
    ...base,
    sessions: base.sessions.map((session) =>
      chosen.has(session)
        ? { ...session, end: localIso(Date.parse(`${session.end}Z`) + 15 * 60_000) }
        : session,
    ),
  }));
  return { bases: next, changed: chosen.size };
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/** A Fever `<eventList>` feed of `bases`, in the form the real feed has. */
function renderFeverXml(bases: readonly BaseEvent[]): Buffer {
  const parts: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    '<eventList xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="1.0" xsi:noNamespaceSchemaLocation="eventList.xsd">\n   <output>\n',
  ];
  for (const base of bases) {
    parts.push(
      `      <base_event base_event_id="${base.id}" sell_mode="${base.online ? 'online' : 'offline'}" organizer_company_id="${base.id % 17}" title="${escapeXml(base.title)}">\n`,
    );
    for (const s of base.sessions) {
      parts.push(
        `         <event event_start_date="${s.start}" event_end_date="${s.end}" event_id="${s.id}" sell_from="2026-01-01T00:00:00" sell_to="${s.start}" sold_out="false">\n`,
      );
      for (const z of s.zones) {
        parts.push(
          `            <zone zone_id="${z.id}" capacity="${z.capacity}" price="${z.price}" name="${escapeXml(z.name)}" numbered="${z.id % 2 === 0}" />\n`,
        );
      }
      parts.push('         </event>\n');
    }
    parts.push('      </base_event>\n');
  }
  parts.push('   </output>\n</eventList>\n');
  return Buffer.from(parts.join(''));
}

/** The JSON API form: one object per session, its base event's fields repeated. */
export function jsonApi(bases: readonly BaseEvent[]): Buffer {
  const events = bases.flatMap((base) =>
    base.sessions.map((s) => ({
      id: `${base.id}-${s.id}`,
      base_id: String(base.id),
      title: base.title,
      starts_at: s.start,
      ends_at: s.end,
      on_sale: base.online,
      zones: s.zones.map((z) => ({ id: String(z.id), name: z.name, price: z.price })),
    })),
  );
  return Buffer.from(JSON.stringify({ data: events, next: null }));
}

export function generateFeeds(options: FeedOptions): GeneratedFeeds {
  const a = buildCatalog(options);
  const { bases: b, changed } = changeSome(a, options);
  return {
    feverA: renderFeverXml(a),
    feverB: renderFeverXml(b),
    jsonA: jsonApi(a),
    jsonB: jsonApi(b),
    events: options.events,
    baseEvents: a.length,
    changed,
  };
}

/** Bumped whenever the output changes, so stale files in bench/out are regenerated. */
export const GENERATOR_VERSION = 2;

export const BENCH_OUT = join(dirname(fileURLToPath(import.meta.url)), 'out');

/** File names of a generated set, so the benchmark finds what `bench:gen` wrote. */
export function feedFiles(events: number, dir = BENCH_OUT) {
  return {
    feverA: join(dir, `fever-${events}-a.xml`),
    feverB: join(dir, `fever-${events}-b.xml`),
    jsonA: join(dir, `api-${events}-a.json`),
    jsonB: join(dir, `api-${events}-b.json`),
    manifest: join(dir, `feeds-${events}.json`),
  };
}

export function writeFeeds(options: FeedOptions, dir = BENCH_OUT): GeneratedFeeds {
  const feeds = generateFeeds(options);
  const files = feedFiles(options.events, dir);
  mkdirSync(dir, { recursive: true });
  writeFileSync(files.feverA, feeds.feverA);
  writeFileSync(files.feverB, feeds.feverB);
  writeFileSync(files.jsonA, feeds.jsonA);
  writeFileSync(files.jsonB, feeds.jsonB);
  writeFileSync(
    files.manifest,
    JSON.stringify(
      {
        ...options,
        version: GENERATOR_VERSION,
        baseEvents: feeds.baseEvents,
        changed: feeds.changed,
        files,
      },
      null,
      2,
    ),
  );
  return feeds;
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): FeedOptions {
  const number = (name: string, fallback: number) => {
    const value = env[name] === undefined || env[name] === '' ? fallback : Number(env[name]);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0`);
    return value;
  };
  return {
    events: Math.floor(number('BENCH_EVENTS', 100_000)),
    changedShare: number('BENCH_CHANGED_SHARE', 0.05),
    seed: Math.floor(number('BENCH_SEED', 42)),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = optionsFromEnv();
  const started = performance.now();
  const feeds = writeFeeds(options);
  const files = feedFiles(options.events);
  console.log(
    `${feeds.events} events in ${feeds.baseEvents} base events, ${feeds.changed} changed in "b"; ` +
      `Fever ${(feeds.feverA.length / 1e6).toFixed(1)} MB, JSON ${(feeds.jsonA.length / 1e6).toFixed(1)} MB; ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s\n  ${Object.values(files).join('\n  ')}`,
  );
}
