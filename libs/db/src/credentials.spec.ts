import { hashPassword, newKeyPart, verifyPassword } from './credentials';

describe('credentials', () => {
  it('hashes passwords with a fresh salt and verifies only the right one', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).not.toEqual(b);
    expect(a).toMatch(/^scrypt\$/);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('wrong horse', a)).toBe(false);
    expect(await verifyPassword('x', 'not-a-hash')).toBe(false);
  });

  it('makes API key parts from the MAAS alphabet', () => {
    const k = newKeyPart(32);
    expect(k).toHaveLength(32);
    expect(k).toMatch(/^[abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789]+$/);
    expect(newKeyPart(18)).not.toEqual(newKeyPart(18));
  });
});
