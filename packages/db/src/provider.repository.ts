import type { Db } from './prisma.client.ts';
import type { Prisma, Provider } from './generated/prisma/client.ts';

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
}
