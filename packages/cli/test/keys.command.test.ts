import { describe, expect, it } from '@jest/globals';
import { ApiKeyRepository } from '@marquee/db';
import { useCliStack } from './cli.harness.ts';

const stack = useCliStack({ label: 'cli-keys' });
const marquee = (...args: string[]) => stack.marquee('keys', ...args);

describe('marquee keys', () => {
  it('creates a key printed once, lists it without the secret, and revokes it', async () => {
    const created = await marquee('create', 'partner', '--quota', '600/min');
    expect(created.code).toBe(0);
    const key = created.out;
    expect(key).toMatch(/^mk_[0-9a-f]{12}_[\w-]{24}$/);
    expect(created.err).toContain('cannot be shown again');

    const keys = new ApiKeyRepository(stack.db);
    const verified = await keys.verify(key);
    expect(verified).toMatchObject({ name: 'partner', quotaPerMinute: 600, revokedAt: null });

    const listed = await marquee('list');
    expect(listed.code).toBe(0);
    expect(listed.out).toContain('partner  quota 600/min  active');
    expect(listed.out).not.toContain(key.slice(-24));

    const revoked = await marquee('revoke', verified!.id);
    expect(revoked.code).toBe(0);
    expect(await keys.verify(key)).toBeNull();
    expect((await marquee('revoke', verified!.id)).code).toBe(2);
    expect((await marquee('list', '--json')).out).toContain('"revokedAt": "');
  });

  it.each([
    ['create', 'x', '--quota', 'lots'],
    ['create', 'x', '--quota', '0/min'],
    ['revoke', 'not-an-id'],
  ])('exits 2 on bad input (case %#)', async (...args) => {
    expect((await marquee(...args)).code).toBe(2);
  });
});
