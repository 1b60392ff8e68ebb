import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from './prisma.client.ts';

/*
 * Key format: `mk_<prefix>_<secret>`: the prefix (12 hex) finds the row through a unique index,
 * the whole key's SHA-256 is compared in constant time. Keys carry 144 random bits, so a fast
 * unsalted hash is enough: nobody guesses one, and the table alone reveals none.
 */
const KEY_PATTERN = /^mk_([0-9a-f]{12})_([A-Za-z0-9_-]{24})$/;

export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  quotaPerMinute: number | null;
  createdAt: Date;
  revokedAt: Date | null;
}

function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export class ApiKeyRepository {
  constructor(private readonly db: Db) {}

  /** Stores a new key and returns it in clear text: the only time it is ever available. */
  async create(
    name: string,
    quotaPerMinute: number | null,
  ): Promise<{ key: string; info: ApiKeyInfo }> {
    const prefix = randomBytes(6).toString('hex');
    const key = `mk_${prefix}_${randomBytes(18).toString('base64url')}`;
    const row = await this.db.apiKey.create({
      data: { name, prefix, keyHash: hashKey(key).toString('hex'), quotaPerMinute },
    });
    return { key, info: toInfo(row) };
  }

  async list(): Promise<ApiKeyInfo[]> {
    const rows = await this.db.apiKey.findMany({ orderBy: { createdAt: 'asc' } });
    return rows.map(toInfo);
  }

  /** False when there is no such key or it was already revoked. */
  async revoke(id: string): Promise<boolean> {
    const { count } = await this.db.apiKey.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    return count > 0;
  }

  /** The live key matching `key`, or null (malformed, unknown, revoked). */
  async verify(key: string): Promise<ApiKeyInfo | null> {
    const match = KEY_PATTERN.exec(key);
    if (!match) return null;
    const row = await this.db.apiKey.findUnique({ where: { prefix: match[1]! } });
    if (!row || row.revokedAt !== null) return null;
    const expected = Buffer.from(row.keyHash, 'hex');
    const actual = hashKey(key);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
    return toInfo(row);
  }
}

/** Only the public fields of a row (never its hash). */
function toInfo(row: ApiKeyInfo): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    quotaPerMinute: row.quotaPerMinute,
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
  };
}
