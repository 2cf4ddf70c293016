import { hasMachineRight, type MachineRight } from '@kiln/lifecycle';
import type { Actor } from '../common/actor';
import { forbidden, invalid } from '../common/domain.error';

/** What access decisions read of a machine: a loaded row or a locked entity both provide it. */
export interface AccessSubject {
  readonly ownerId: number | null;
  readonly hostname: string;
  readonly locked: boolean;
}

/** see / edit / own / admin: the rights `hasMachineRight` (libs/lifecycle permissions.ts) defines. */
export type { MachineRight };

const REFUSALS: Record<MachineRight, string> = {
  see: 'You do not have permission to view this machine.',
  edit: 'You do not have permission to change this machine.',
  own: 'Only the owner may annotate this machine.',
  admin: 'You do not have permission to perform this action.',
};

/**
 * The region's door to the permission rules (libs/lifecycle `permissions.ts`, the one place that
 * decides who may do what with a machine; `decide` applies the same file's action gate). Services
 * ask it once per request, on the record they loaded, and get coded errors. The API dispatcher
 * only checks its generic admin-only flag on actions.
 */
export class MachineAccess {
  may(actor: Actor, right: MachineRight, machine: Pick<AccessSubject, 'ownerId'>): boolean {
    return hasMachineRight(right, { isAdmin: actor.isAdmin, owned: machine.ownerId !== null, isOwner: machine.ownerId !== null && machine.ownerId === actor.id });
  }

  /** Throws FORBIDDEN unless the caller has `right` on the machine. */
  require(actor: Actor, right: MachineRight, machine: Pick<AccessSubject, 'ownerId'>): void {
    if (!this.may(actor, right, machine)) throw forbidden(REFUSALS[right]);
  }

  /** A locked machine refuses changes from everyone, administrators included, until unlocked. */
  requireUnlocked(machine: Pick<AccessSubject, 'locked' | 'hostname'>): void {
    if (machine.locked) throw forbidden(`Machine ${machine.hostname} is locked.`);
  }

  /**
   * The owner a listing is limited to for this caller: null for an administrator (every machine),
   * else the caller's id (their machines and the unowned ones).
   */
  listingOwner(actor: Actor): number | null {
    return actor.isAdmin ? null : actor.id;
  }

  /** Throws FORBIDDEN naming every machine of `machines` the caller may not release. */
  requireReleasable(actor: Actor, machines: readonly (Pick<AccessSubject, 'ownerId'> & { systemId: string })[]): void {
    const refused = machines.filter((m) => !this.may(actor, 'see', m));
    if (refused.length) {
      throw forbidden(`You don't have the required permission to release the following machine(s): ${refused.map((m) => m.systemId).join(', ')}.`);
    }
  }

  /**
   * Who may say how a machine is powered (MAAS: administrators manage BMCs). A user who is not an
   * administrator may not set a power type or power parameters at all; an anonymous enlistment
   * may report the BMC its commissioning scripts found, but never a webhook, whose URLs the rack
   * would then call on the enlisting machine's say-so.
   */
  requirePowerSettings(actor: Actor | null, powerType: string, setsPower: boolean): void {
    if (actor && !actor.isAdmin && setsPower) {
      throw forbidden('Only administrators may set the power type or power parameters (BMC settings) of a machine.');
    }
    if (!actor && powerType === 'webhook') {
      // A 400 naming the field, not a 403: an anonymous caller has no rights to lack, and a 401/403
      // reads to a runner as a clock to correct, which it retries for a minute before enlisting
      // without the BMC anyway.
      throw invalid({ power_type: ['An enlisting machine may not set webhook power URLs; an administrator sets them.'] });
    }
  }
}
