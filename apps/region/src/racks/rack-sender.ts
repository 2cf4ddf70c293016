import { ContractError, rackIdOfSubject } from '@kiln/contracts';
import type { ContractBus, HandlerContext } from '@kiln/contracts/nats';

/**
 * The rack that sent a request, as the NATS server vouches for it: racks may publish only under
 * their own id, so the subject names the sender. A payload that names another rack is refused.
 */
export function senderRack(bus: ContractBus, ctx: HandlerContext, claimed: string): string {
  const rackId = rackIdOfSubject(bus.prefix, ctx.subject);
  if (!rackId || rackId !== claimed) {
    throw new ContractError('BAD_REQUEST', `the request names rack "${claimed}" but was sent as "${rackId ?? '?'}"`);
  }
  return rackId;
}
