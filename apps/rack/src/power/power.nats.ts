import { PowerCycle, PowerOff, PowerOn, PowerQuery, PowerQueryBatch, PowerSetBootDevice } from '@kiln/contracts';
import { ContractBus, InFlight } from '@kiln/contracts/nats';
import { Subscription } from 'nats';
import { PowerHandlers } from './power.handler';

/**
 * The rack's power subjects on the contract bus, the one NATS transport of Kiln: one subscription
 * per power subject of this rack (`rack.<rackId>.power.on|off|cycle|query|set_boot_device|query_batch`).
 * ContractBus.serve does the edge work for every subject alike: it refuses what a region did not
 * sign (UNAUTHENTICATED; the BMC is never called), checks requests and replies against the
 * contracts, answers in their envelope, and runs each handler bound to the request's correlation id.
 * How many BMC calls run at once is the executor's business (its limiter), not the transport's.
 */
export interface PowerNatsServer {
  subjects: string[];
  /** Stops taking requests and waits for the ones in flight to be answered. */
  stop(): Promise<void>;
}

/** Why a bus that does not check region signatures may not serve power: anyone could drive a BMC. */
export const UNVERIFIED_BUS = 'the power subjects are served only on a bus that checks region signatures';

export function servePowerOverNats(bus: ContractBus, rackId: string, handlers: PowerHandlers): PowerNatsServer {
  if (!bus.verifies) throw new Error(UNVERIFIED_BUS);
  const inFlight = new InFlight();
  const subs: Subscription[] = [
    bus.serve(PowerOn, [rackId], handlers.on, { inFlight }),
    bus.serve(PowerOff, [rackId], handlers.off, { inFlight }),
    bus.serve(PowerCycle, [rackId], handlers.cycle, { inFlight }),
    bus.serve(PowerQuery, [rackId], handlers.query, { inFlight }),
    bus.serve(PowerSetBootDevice, [rackId], handlers.setBootDevice, { inFlight }),
    bus.serve(PowerQueryBatch, [rackId], handlers.queryBatch, { inFlight }),
  ];
  return {
    subjects: subs.map((s) => s.getSubject()),
    stop: async () => {
      for (const s of subs) s.unsubscribe();
      await inFlight.settled();
    },
  };
}
