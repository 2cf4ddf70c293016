/**
 * Who may do what with a machine: the one place Kiln decides it. Two questions, one vocabulary:
 * - `gateRefusal`: may this actor take this lifecycle action (commission, deploy, lock, ...)
 *   on this machine, given the action's permission in the actions table and the machine's lock?
 *   `decide` asks it first, as MAAS does (permission, then lock, then state).
 * - `hasMachineRight`: may this actor see, edit, act as owner on, or administer this machine
 *   (reads, configuration edits, annotations)? The region's `MachineAccess` asks it.
 * Pure: no framework, no I/O.
 */
import { ACTIONS } from './actions.table';
import type { ActionName, Actor, MachineView, Refused } from './decision.types';

/** A machine right outside the lifecycle actions. */
export type MachineRight = 'see' | 'edit' | 'own' | 'admin';

/** What a right is judged on: who asks, and whether the machine has an owner and it is them. */
export interface RightSubject {
  isAdmin: boolean;
  /** The machine has an owner. */
  owned: boolean;
  /** The actor is the machine's owner. */
  isOwner: boolean;
}

/**
 * An administrator may do everything; anyone may see and edit an unowned machine; a user may see,
 * edit and own the machines they own; another user's machine is out of reach.
 */
export function hasMachineRight(right: MachineRight, s: RightSubject): boolean {
  if (s.isAdmin) return true;
  switch (right) {
    case 'see':
    case 'edit':
      return !s.owned || s.isOwner;
    case 'own':
      return s.isOwner;
    case 'admin':
      return false;
    default: {
      const never: never = right;
      throw new Error(`unknown machine right ${String(never)}`);
    }
  }
}


/**
 * Permission first, then the lock, then (in each action) state. This is MAAS's order: the REST
 * handler fetches the machine with the permission it needs (403), and a locked machine fails
 * every edit/admin permission check. A null actor is the system and may do anything.
 */
export function gateRefusal(m: MachineView, action: ActionName, actor: Actor | null): Refused | null {
  if (actor === null) return null;
  const spec = ACTIONS[action];
  const op = spec.restOp ?? action;
  const isOwner = m.owner !== null && m.owner === actor.username;
  switch (spec.permission) {
    case 'admin':
      if (!actor.isAdmin) return refuse('FORBIDDEN', `Only administrators can use '${op}'.`);
      break;
    case 'edit':
      if (!actor.isAdmin && m.owner !== null && !isOwner) {
        return refuse('FORBIDDEN', `Machine ${idOf(m)} belongs to another user; '${op}' needs its owner or an administrator.`);
      }
      break;
    case 'owner':
      // mark_broken: even administrators must own the machine (an unowned machine gives 403).
      if (!isOwner) return refuse('FORBIDDEN', `Only the owner of machine ${idOf(m)} can use '${op}'.`);
      break;
    case 'lock':
      if (!actor.isAdmin && !isOwner) {
        return refuse('FORBIDDEN', `Only the owner of machine ${idOf(m)} or an administrator can use '${op}'.`);
      }
      break;
  }
  if (m.locked && !spec.allowedWhenLocked) {
    return refuse('FORBIDDEN', `Machine ${idOf(m)} is locked; unlock it before using '${op}'.`);
  }
  return null;
}

function idOf(m: MachineView): string {
  return m.systemId ?? '(unknown)';
}

function refuse(code: 'FORBIDDEN', message: string): Refused {
  return { ok: false, code, message };
}
