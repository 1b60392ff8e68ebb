// What PostgreSQL spends on the group commit of small syncs (EventGroupWriter), by the way a
// member's rows go in: `pnpm bench:group-write`, results in bench/RESULTS.md ("Group write").
// Two cases, alternating in rounds on one database so that both see the same table sizes and
// the same machine speed:
// - "insert": providers without stored events (a first ingest) — plain INSERT from the stage;
// - "merge": providers with one stored event, writing as many new keys — INSERT … ON CONFLICT.
// Both insert the same rows; the difference is the merge's conflict arbitration. Knobs:
// BENCH_GROUP_ROUNDS (8), BENCH_GROUP_PROVIDERS (1000 per case and round), BENCH_GROUP_EVENTS
// (100 per provider), BENCH_GROUP_SIZE (64, the production overlay's syncs per worker).
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { createDb, EventGroupWriter, type Db, type GroupedWrite } from '@marquee/db';
import type { EventRecord } from '@marquee/event-model';
import { createTestDatabase, eventRecord } from '@marquee/testing';
import { postgresCpuSeconds, postgresCpuSince } from './bench.stack.ts';
import { writeSection } from './results.writer.ts';

const ROUNDS = Number(process.env.BENCH_GROUP_ROUNDS ?? 8);
const PROVIDERS = Number(process.env.BENCH_GROUP_PROVIDERS ?? 1_000);
const EVENTS = Number(process.env.BENCH_GROUP_EVENTS ?? 100);
const GROUP = Number(process.env.BENCH_GROUP_SIZE ?? 64);
const CASES = ['insert', 'merge'] as const;
type Case = (typeof CASES)[number];

interface Provider {
  id: string;
  name: string;
}

/** A Fever-like event: no details, a price range, one start per day. */
function events(provider: Provider, prefix: string, count: number): EventRecord[] {
  return Array.from({ length: count }, (_, i) =>
    eventRecord({
      externalKey: `${prefix}${i}`,
      title: `Show ${provider.name} ${i}`,
      startsAt: new Date(Date.UTC(2027, 0, 1 + (i % 300), 20)),
      minPrice: '12.50',
      maxPrice: '30.00',
      currency: 'EUR',
    }),
  );
}

async function createProviders(db: Db, label: string): Promise<Provider[]> {
  const providers = Array.from({ length: PROVIDERS }, (_, i) => ({
    id: randomUUID(),
    name: `${label}-${i}`,
  }));
  await db.$executeRaw`
    INSERT INTO providers (id, name, kind, url, every_seconds, updated_at)
    SELECT id::uuid, name, 'fever-xml', 'http://127.0.0.1/feed.xml', 3600, now()
    FROM unnest(${providers.map((p) => p.id)}::text[], ${providers.map((p) => p.name)}::text[])
      AS t(id, name)`;
  return providers;
}

/** Writes every provider's payload, GROUP concurrent writes at a time (one group each). */
async function writeAll(writer: EventGroupWriter, writes: GroupedWrite[]): Promise<number> {
  let written = 0;
  for (let at = 0; at < writes.length; at += GROUP) {
    const results = await Promise.all(writes.slice(at, at + GROUP).map((w) => writer.write(w)));
    for (const result of results) written += result.written;
  }
  return written;
}

const payloads = (providers: Provider[], prefix: string, count: number): GroupedWrite[] =>
  providers.map((provider) => ({
    provider,
    events: events(provider, prefix, count),
    seenAt: new Date(),
    forgetPayload: false,
  }));

/** One case of one round: PostgreSQL CPU and wall time per provider written. */
async function measure(db: Db, monitor: Db, writer: EventGroupWriter, kind: Case, round: number) {
  const providers = await createProviders(db, `${kind}-${round}`);
  // The merge case's providers have one stored event before the measured writes.
  if (kind === 'merge') await writeAll(writer, payloads(providers, 'stored-', 1));
  const writes = payloads(providers, 'new-', EVENTS);
  const before = await postgresCpuSeconds(monitor);
  const started = performance.now();
  const written = await writeAll(writer, writes);
  const wallMs = performance.now() - started;
  const cpuSeconds = await postgresCpuSince(monitor, before);
  if (written !== PROVIDERS * EVENTS) throw new Error(`${kind}: wrote ${written} rows`);
  return { postgresMs: (cpuSeconds * 1000) / PROVIDERS, wallMs: wallMs / PROVIDERS };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;

const loadBefore = loadavg();
const database = await createTestDatabase('bench_group_write');
const db = createDb({ databaseUrl: database.url, maxConnections: 4 });
// Asks for the backends' CPU on a connection of its own, which is not counted.
const monitor = createDb({ databaseUrl: database.url, maxConnections: 1 });
const results: Record<Case, { postgresMs: number[]; wallMs: number[] }> = {
  insert: { postgresMs: [], wallMs: [] },
  merge: { postgresMs: [], wallMs: [] },
};
try {
  const writer = new EventGroupWriter(db.pool);
  for (let round = 0; round < ROUNDS; round += 1) {
    // Each round starts with the case the previous one ended with: neither always goes first.
    for (const kind of round % 2 === 0 ? CASES : [...CASES].reverse()) {
      const { postgresMs, wallMs } = await measure(db, monitor, writer, kind, round);
      results[kind].postgresMs.push(postgresMs);
      results[kind].wallMs.push(wallMs);
      console.log(JSON.stringify({ round, kind, postgresMs, wallMs }));
    }
  }
} finally {
  await db.$disconnect();
  await monitor.$disconnect();
  await database.drop();
}

const ms = (value: number) => value.toFixed(2);
const row = (kind: Case, label: string) =>
  `| ${label} | ${ms(median(results[kind].postgresMs))} ms (${results[kind].postgresMs.map(ms).join(', ')}) | ${ms(median(results[kind].wallMs))} ms |`;
writeSection(
  'Group write',
  `## Group write

Run ${new Date().toISOString()} by \`pnpm bench:group-write\` on ${cpus().length} cores, load average ${loadBefore.map((n) => n.toFixed(2)).join(', ')} before.
${ROUNDS} rounds, each writing ${PROVIDERS} providers × ${EVENTS} new events per case through EventGroupWriter, ${GROUP} concurrent writes per group, the cases alternating; the table grows to ${(2 * ROUNDS * PROVIDERS * EVENTS).toLocaleString('en')} rows. PostgreSQL CPU is that of the database's backends, from /proc.

| rows of a provider's write go in by | PostgreSQL CPU per provider, median (each round) | wall per provider, median |
| --- | --- | --- |
${row('insert', 'plain INSERT from the stage (no stored event: a first ingest)')}
${row('merge', 'INSERT … ON CONFLICT from the stage (a provider with stored events)')}
`,
);
console.log(
  `insert ${ms(median(results.insert.postgresMs))} ms, merge ${ms(median(results.merge.postgresMs))} ms of PostgreSQL CPU per provider`,
);
