import type { Db } from './prisma.client.ts';
import type { ProviderFetchState } from './generated/prisma/client.ts';

export type { ProviderFetchState };

export interface FetchStateUpdate {
  etag: string | null;
  lastModified: string | null;
  contentHash: string;
  parsedCount: number;
  /**
   * When every key of this payload was last marked seen (see `EventRepository.markSeen`), on the
   * sync's clock. Only a payload whose mark is recent enough may be taken for unchanged unparsed.
   */
  seenMarkedAt: Date;
}

/**
 * Per provider: validators for a conditional GET, the last applied payload's content hash and
 * parsed count. Written only after a payload was applied, so a failed or flagged sync never
 * makes the next identical payload look "unchanged".
 */
export class FetchStateRepository {
  constructor(private readonly db: Db) {}

  find(providerId: string): Promise<ProviderFetchState | null> {
    return this.db.providerFetchState.findUnique({ where: { providerId } });
  }

  /**
   * Before rows are written: until the write completes and `save` records the new payload, no
   * payload may be taken for "unchanged" (a partial or flagged write leaves the rows matching
   * neither the old hash nor the new one). Keeps the shrink guard's reference count.
   */
  async forgetPayload(providerId: string): Promise<void> {
    await this.db.providerFetchState.updateMany({
      where: { providerId },
      data: { etag: null, lastModified: null, contentHash: null, seenMarkedAt: null },
    });
  }

  async save(providerId: string, update: FetchStateUpdate): Promise<void> {
    await this.db.providerFetchState.upsert({
      where: { providerId },
      create: { providerId, ...update },
      update,
    });
  }
}
