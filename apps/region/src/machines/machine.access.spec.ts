import { DomainError } from '../common/domain.error';
import { MachineAccess } from './machine.access';

const access = new MachineAccess();
const admin = { id: 1, username: 'root', isAdmin: true };
const alice = { id: 2, username: 'alice', isAdmin: false };
const unowned = { ownerId: null, hostname: 'free', locked: false };
const alices = { ownerId: 2, hostname: 'mine', locked: false };
const bobs = { ownerId: 3, hostname: 'his', locked: false };

function refusal(fn: () => void): { code: string; detail: unknown } | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, detail: e.detail };
    throw e;
  }
}

describe('MachineAccess', () => {
  it('lets an administrator do everything', () => {
    for (const m of [unowned, alices, bobs]) {
      expect((['see', 'edit', 'own', 'admin'] as const).map((r) => access.may(admin, r, m))).toEqual([true, true, true, true]);
    }
  });

  it('lets a user see and edit unowned machines and their own, and own only their own', () => {
    expect((['see', 'edit', 'own', 'admin'] as const).map((r) => access.may(alice, r, unowned))).toEqual([true, true, false, false]);
    expect((['see', 'edit', 'own', 'admin'] as const).map((r) => access.may(alice, r, alices))).toEqual([true, true, true, false]);
    expect((['see', 'edit', 'own', 'admin'] as const).map((r) => access.may(alice, r, bobs))).toEqual([false, false, false, false]);
  });

  it("refuses another user's machine with MAAS's words", () => {
    expect(refusal(() => access.require(alice, 'see', bobs))).toEqual({ code: 'FORBIDDEN', detail: 'You do not have permission to view this machine.' });
    expect(refusal(() => access.require(alice, 'edit', bobs))).toEqual({ code: 'FORBIDDEN', detail: 'You do not have permission to change this machine.' });
    expect(refusal(() => access.require(alice, 'own', unowned))).toEqual({ code: 'FORBIDDEN', detail: 'Only the owner may annotate this machine.' });
    expect(refusal(() => access.require(alice, 'see', alices))).toBeNull();
  });

  it('refuses changes to a locked machine, even from an administrator', () => {
    expect(refusal(() => access.requireUnlocked({ ...alices, locked: true }))).toEqual({ code: 'FORBIDDEN', detail: 'Machine mine is locked.' });
    expect(refusal(() => access.requireUnlocked(alices))).toBeNull();
  });

  it('limits a listing to the caller unless they are an administrator', () => {
    expect(access.listingOwner(admin)).toBeNull();
    expect(access.listingOwner(alice)).toBe(2);
  });

  it('names every machine a user may not release', () => {
    const machines = [
      { ...bobs, systemId: 'b1' },
      { ...alices, systemId: 'a1' },
      { ...bobs, systemId: 'b2' },
    ];
    expect(refusal(() => access.requireReleasable(alice, machines))).toEqual({
      code: 'FORBIDDEN',
      detail: "You don't have the required permission to release the following machine(s): b1, b2.",
    });
    expect(refusal(() => access.requireReleasable(admin, machines))).toBeNull();
  });

  it('keeps BMC settings to administrators, and webhooks away from enlisting machines', () => {
    expect(refusal(() => access.requirePowerSettings(alice, 'ipmi', true))?.code).toBe('FORBIDDEN');
    expect(refusal(() => access.requirePowerSettings(alice, '', false))).toBeNull();
    expect(refusal(() => access.requirePowerSettings(admin, 'webhook', true))).toBeNull();
    expect(refusal(() => access.requirePowerSettings(null, 'ipmi', true))).toBeNull();
    expect(refusal(() => access.requirePowerSettings(null, 'webhook', true))).toEqual({
      code: 'INVALID',
      detail: { power_type: ['An enlisting machine may not set webhook power URLs; an administrator sets them.'] },
    });
  });
});
