import { MessageSigner, MessageVerifier } from '@kiln/contracts';
import { ContractBus } from '@kiln/contracts/nats';
import type { NatsConnection, Subscription } from 'nats';
import { PowerHandlers } from './power.handler';
import { servePowerOverNats, UNVERIFIED_BUS } from './power.nats';

const never = () => Promise.reject(new Error('not called'));
const handlers: PowerHandlers = { on: never, off: never, cycle: never, query: never, setBootDevice: never, queryBatch: never };

/** Records subscriptions instead of making them (the real server is in power.nats.e2e and rack.medium). */
function recordingConnection(): NatsConnection & { subjects: string[] } {
  const subjects: string[] = [];
  const nc = {
    subjects,
    subscribe: (subject: string) => {
      subjects.push(subject);
      return { getSubject: () => subject, unsubscribe: () => undefined } as unknown as Subscription;
    },
  };
  return nc as unknown as NatsConnection & { subjects: string[] };
}

describe('servePowerOverNats', () => {
  it('refuses a bus that does not check region signatures: nobody else may drive a BMC', () => {
    const nc = recordingConnection();
    expect(() => servePowerOverNats(new ContractBus(nc, { prefix: 'p.' }), 'r1', handlers)).toThrow(UNVERIFIED_BUS);
    expect(nc.subjects).toEqual([]);
  });

  it("serves this rack's six power subjects on the bus's prefix", async () => {
    const nc = recordingConnection();
    const verifier = new MessageVerifier([MessageSigner.fromSecret('region').publicKey]);
    const server = servePowerOverNats(new ContractBus(nc, { prefix: 'p.', verifier }), 'r1', handlers);
    expect(server.subjects).toEqual(['on', 'off', 'cycle', 'query', 'set_boot_device', 'query_batch'].map((a) => `p.rack.r1.power.${a}`));
    await expect(server.stop()).resolves.toBeUndefined();
  });
});
