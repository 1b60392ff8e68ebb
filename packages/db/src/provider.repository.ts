import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Db } from './prisma.client.ts';
import { Prisma, type Provider } from './generated/prisma/client.ts';

export type { Provider };

export interface NewProvider {
  name: string;
  kind: string;
  url: string;
  everySeconds: number;
  timezone: string;
  config?: Record<string, unknown>;
  enabled?: boolean;
}

/** What `update` may change; absent fields stay as they are. */
export type ProviderChanges = Partial<Omit<NewProvider, 'name'>>;

/** Counts of an `applyAll`: providers created, changed, left as they were and removed. */
export interface ApplyResult {
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
}

/** Rows per statement of `applyAll`: one JSON parameter each, whatever the file's size. */
const APPLY_CHUNK = 2_000;

export class ProviderExistsError extends Error {
  override name = 'ProviderExistsError';
}

export class ProviderRepository {
  constructor(private readonly db: Db) {}

  async create(input: NewProvider): Promise<Provider> {
    try {
      return await this.db.provider.create({
        data: { ...input, config: (input.config ?? {}) as Prisma.InputJsonObject },
      });
    } catch (error) {
      if ((error as { code?: string }).code === 'P2002') {
        throw new ProviderExistsError(`a provider named "${input.name}" already exists`);
      }
      throw error;
    }
  }

  list(): Promise<Provider[]> {
    return this.db.provider.findMany({ orderBy: { name: 'asc' } });
  }

  listEnabled(): Promise<Provider[]> {
    return this.db.provider.findMany({ where: { enabled: true }, orderBy: { name: 'asc' } });
  }

  findByName(name: string): Promise<Provider | null> {
    return this.db.provider.findUnique({ where: { name } });
  }

  findById(id: string): Promise<Provider | null> {
    return this.db.provider.findUnique({ where: { id } });
  }

  /** Whether the provider is still there (a running sync asks between pages). */
  async exists(id: string): Promise<boolean> {
    return (await this.db.provider.count({ where: { id } })) > 0;
  }

  /** Which of `ids` are still there: one statement however many syncs ask (the removal watcher). */
  async existing(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM providers WHERE id = ANY(${ids}::uuid[])`;
    return new Set(rows.map((row) => row.id));
  }

  count(): Promise<number> {
    return this.db.provider.count();
  }

  /** Returns false when no such provider exists. */
  async setEnabled(name: string, enabled: boolean): Promise<boolean> {
    const { count } = await this.db.provider.updateMany({ where: { name }, data: { enabled } });
    return count > 0;
  }

  /** Removes the provider with its events and sync runs; returns how many events went with it. */
  async remove(name: string): Promise<{ removed: boolean; events: number }> {
    return this.db.$transaction(async (tx) => {
      const provider = await tx.provider.findUnique({ where: { name } });
      if (!provider) return { removed: false, events: 0 };
      const events = await tx.event.count({ where: { providerId: provider.id } });
      await tx.provider.delete({ where: { id: provider.id } });
      return { removed: true, events };
    });
  }

  /**
   * Changes a provider in place: its id, events and sync history stay. A new kind, URL or config
   * drops the fetch state (validators and content hash of the old payload). Returns the updated
   * provider, or null when none has that name.
   */
  async update(name: string, changes: ProviderChanges): Promise<Provider | null> {
    return this.db.$transaction(async (tx) => {
      const current = await tx.provider.findUnique({ where: { name } });
      if (!current) return null;
      const { config, ...rest } = changes;
      const updated = await tx.provider.update({
        where: { id: current.id },
        data: { ...rest, ...(config && { config: config as Prisma.InputJsonObject }) },
      });
      if (payloadChanged(current, updated))
        await tx.providerFetchState.deleteMany({ where: { providerId: current.id } });
      return updated;
    });
  }

  /**
   * Makes the providers table hold `wanted`, matched by name, in one transaction of set-based
   * statements: new names are inserted, changed ones updated in place (ids, events and history
   * stay), identical ones left alone; with `prune`, providers not in `wanted` are removed.
   */
  async applyAll(wanted: NewProvider[], options: { prune: boolean }): Promise<ApplyResult> {
    return this.db.$transaction(
      async (tx) => {
        const existing = new Map((await tx.provider.findMany()).map((row) => [row.name, row]));
        const created: Provider[] = [];
        const updated: Provider[] = [];
        const refetch: string[] = [];
        for (const input of wanted) {
          const current = existing.get(input.name);
          const row = rowOf(input, current);
          if (!current) created.push(row);
          else if (!sameProvider(current, row)) {
            updated.push(row);
            if (payloadChanged(current, row)) refetch.push(row.id);
          }
        }
        for (const chunk of chunks(created)) await tx.$executeRaw(insertSql(chunk));
        for (const chunk of chunks(updated)) await tx.$executeRaw(updateSql(chunk));
        if (refetch.length > 0)
          await tx.$executeRaw`DELETE FROM provider_fetch_states WHERE provider_id = ANY(${refetch}::uuid[])`;
        const names = wanted.map((input) => input.name);
        const removed = options.prune
          ? await tx.$executeRaw`DELETE FROM providers WHERE NOT (name = ANY(${names}::text[]))`
          : 0;
        return {
          created: created.length,
          updated: updated.length,
          unchanged: wanted.length - created.length - updated.length,
          removed,
        };
      },
      { timeout: 120_000 },
    );
  }
}

function rowOf(input: NewProvider, current: Provider | undefined): Provider {
  const now = new Date();
  return {
    id: current?.id ?? randomUUID(),
    name: input.name,
    kind: input.kind,
    url: input.url,
    everySeconds: input.everySeconds,
    timezone: input.timezone,
    config: (input.config ?? {}) as Prisma.JsonObject,
    enabled: input.enabled ?? true,
    createdAt: current?.createdAt ?? now,
    updatedAt: now,
  };
}

function sameProvider(a: Provider, b: Provider): boolean {
  return (
    a.kind === b.kind &&
    a.url === b.url &&
    a.everySeconds === b.everySeconds &&
    a.timezone === b.timezone &&
    a.enabled === b.enabled &&
    isDeepStrictEqual(a.config, b.config)
  );
}

/** What makes the last payload's validators and content hash meaningless for the next fetch. */
function payloadChanged(before: Provider, after: Provider): boolean {
  return (
    before.kind !== after.kind ||
    before.url !== after.url ||
    !isDeepStrictEqual(before.config, after.config)
  );
}

function chunks<T>(rows: T[]): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < rows.length; start += APPLY_CHUNK)
    out.push(rows.slice(start, start + APPLY_CHUNK));
  return out;
}

const RECORD = Prisma.sql`AS r(id uuid, name text, kind text, url text, every_seconds int, timezone text, config jsonb, enabled boolean)`;

function recordsJson(rows: Provider[]): string {
  return JSON.stringify(
    rows.map((row) => ({
      id: row.id,
      name: row.name,
      kind: row.kind,
      url: row.url,
      every_seconds: row.everySeconds,
      timezone: row.timezone,
      config: row.config,
      enabled: row.enabled,
    })),
  );
}

function insertSql(rows: Provider[]): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO providers (id, name, kind, url, every_seconds, timezone, config, enabled)
    SELECT r.id, r.name, r.kind, r.url, r.every_seconds, r.timezone, r.config, r.enabled
    FROM jsonb_to_recordset(${recordsJson(rows)}::jsonb) ${RECORD}`;
}

function updateSql(rows: Provider[]): Prisma.Sql {
  return Prisma.sql`
    UPDATE providers AS p
    SET kind = r.kind, url = r.url, every_seconds = r.every_seconds, timezone = r.timezone,
        config = r.config, enabled = r.enabled, updated_at = CURRENT_TIMESTAMP
    FROM jsonb_to_recordset(${recordsJson(rows)}::jsonb) ${RECORD}
    WHERE p.id = r.id`;
}
