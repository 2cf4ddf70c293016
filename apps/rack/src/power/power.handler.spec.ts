import { ContractError, generateBoxKeyPair, openPowerParameters, POWER_ERRORS, PowerCycle, PowerOn, PowerOutcome, PowerQueryBatch, sealPowerParameters } from '@kiln/contracts';
import { ManualDriver, POWER_ERROR_CODES, PowerDriver, PowerError } from '@kiln/power/drivers';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandJournal } from './command.journal';
import { CommandMemory } from './command.memory';
import { createPowerHandlers, powerFailure, toWireCode } from './power.handler';
import { PowerExecutor, RackBusyError } from './power.executor';

function failing(err: PowerError): PowerDriver<Record<string, string>> {
  return {
    def: { name: 'broken', description: 'Broken', chassis: false, can_probe: false, queryable: true, fields: [] },
    canQueryBootDevice: false,
    parseSettings: (p) => ({ ...p }),
    bmcKey: () => 'k',
    query: () => Promise.reject(err),
    on: () => Promise.reject(err),
    off: () => Promise.reject(err),
    cycle: () => Promise.reject(err),
    setBootDevice: () => Promise.reject(err),
    queryBootDevice: () => Promise.reject(err),
  };
}

describe('power handlers', () => {
  const logs: string[] = [];
  const log = { info: (o: object, m: string) => logs.push(`${m} ${JSON.stringify(o)}`), warn: (o: object, m: string) => logs.push(`${m} ${JSON.stringify(o)}`) };
  const auth = new PowerError('BMC_AUTH', 'the BMC refused the password', '10.0.0.5: password invalid');
  const executor = new PowerExecutor(new Map<string, PowerDriver<unknown>>([
    ['manual', new ManualDriver() as PowerDriver<unknown>],
    ['broken', failing(auth) as PowerDriver<unknown>],
  ]), { jitterMs: 0, policy: { attempts: 1, verifyDelaysMs: [1] } });
  const box = generateBoxKeyPair();
  const h = createPowerHandlers(executor, (systemId, sealed) => openPowerParameters(box, 'rack-1', systemId, sealed), log);
  const sealed = (systemId: string, p: Record<string, string>) => sealPowerParameters(box.publicKey, 'rack-1', systemId, p);

  it('answers with the contract’s reply shape', async () => {
    const reply = await h.on(PowerOn.request.parse({ systemId: 'abc', powerType: 'manual', sealedParameters: sealed('abc', {}) }));
    expect(PowerOn.reply.parse(reply)).toEqual({ outcome: 'manual', state: 'unknown', verified: false, calls: 1, elapsedMs: expect.any(Number), message: expect.stringMatching(/power it on by hand/) });
  });

  it('answers failures with the contract’s codes and the BMC’s words, logging no secret', async () => {
    const err = await h.off({ systemId: 'abc', powerType: 'broken', sealedParameters: sealed('abc', { power_pass: 'p4ssw0rd' }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContractError);
    expect(err).toMatchObject({ code: 'BMC_AUTH', message: 'the BMC refused the password (BMC said: 10.0.0.5: password invalid)' });
    expect(logs.join('\n')).toContain('power command failed');
    expect(logs.join('\n')).not.toContain('p4ssw0rd');
  });

  it('answers a batch with one result per machine', async () => {
    const reply = await h.queryBatch(
      PowerQueryBatch.request.parse({
        items: [
          { systemId: 'a', powerType: 'manual', sealedParameters: sealed('a', {}) },
          { systemId: 'b', powerType: 'broken', sealedParameters: sealed('b', {}) },
          // Sealed for machine a: cannot be replayed for machine c.
          { systemId: 'c', powerType: 'manual', sealedParameters: sealed('a', {}) },
        ],
      }),
    );
    expect(PowerQueryBatch.reply.parse(reply).results).toEqual([
      { systemId: 'a', ok: true, state: 'unknown', elapsedMs: expect.any(Number) },
      { systemId: 'b', ok: false, code: 'BMC_AUTH', fatal: true, message: 'the BMC refused the password (BMC said: 10.0.0.5: password invalid)' },
      { systemId: 'c', ok: false, code: 'BAD_SETTINGS', fatal: true, message: expect.stringMatching(/not sealed to this rack/) },
    ]);
  });

  it('refuses parameters sealed to another rack, for another machine, or not sealed at all, and never runs the driver', async () => {
    const other = generateBoxKeyPair();
    const cases = [
      sealPowerParameters(other.publicKey, 'rack-1', 'abc', {}),
      sealPowerParameters(box.publicKey, 'rack-2', 'abc', {}),
      sealed('xyz', {}),
      'kb1.AAAA',
    ];
    for (const sealedParameters of cases) {
      await expect(h.on({ systemId: 'abc', powerType: 'manual', sealedParameters })).rejects.toMatchObject({ code: 'BAD_SETTINGS' });
    }
    expect(PowerOn.request.safeParse({ systemId: 'abc', powerType: 'manual', powerParameters: { power_pass: 'x' } }).success).toBe(false);
  });

  it('maps every libs/power code onto the wire, and a full rack to RACK_BUSY', () => {
    for (const code of POWER_ERROR_CODES) expect(POWER_ERRORS).toContain(toWireCode(code));
    expect(powerFailure(new RackBusyError('full')).code).toBe('RACK_BUSY');
    expect(powerFailure(new Error('bug')).code).toBe('INTERNAL');
  });

  describe('a command carried out once per command id', () => {
    let cycles = 0;
    let ons = 0;
    let fail = false;
    const counting: PowerDriver<Record<string, string>> = {
      ...failing(auth),
      def: { name: 'counting', description: 'Counting', chassis: false, can_probe: false, queryable: true, fields: [] },
      query: () => Promise.resolve('on' as const),
      on: async () => {
        ons++;
        return { kind: 'accepted' as const };
      },
      cycle: async () => {
        cycles++;
        await new Promise((r) => setTimeout(r, 50));
        if (fail) throw new PowerError('BMC_UNREACHABLE', 'no route to the BMC', 'connect failed');
        return { kind: 'accepted' as const };
      },
    };
    const ex = new PowerExecutor(new Map<string, PowerDriver<unknown>>([['counting', counting as PowerDriver<unknown>]]), {
      jitterMs: 0,
      policy: { attempts: 1, verifyDelaysMs: [1] },
    });
    const handlers = createPowerHandlers(ex, (systemId, s) => openPowerParameters(box, 'rack-1', systemId, s), log);
    const req = (commandId?: string) =>
      PowerCycle.request.parse({ systemId: 'abc', powerType: 'counting', sealedParameters: sealed('abc', {}), ...(commandId ? { commandId } : {}) });

    it('answers a retried power cycle from memory: the machine cycles once', async () => {
      cycles = 0;
      const first = await handlers.cycle(req('effect-1'));
      const retried = await handlers.cycle(req('effect-1'));
      expect(cycles).toBe(1);
      expect(retried).toEqual(first);
      expect(logs.join('\n')).toContain('repeated power command answered from memory');
      // A repeat that arrives while the first is still running waits for it.
      const [a, b] = await Promise.all([handlers.cycle(req('effect-2')), handlers.cycle(req('effect-2'))]);
      expect(a).toEqual(b);
      expect(cycles).toBe(2);
    });

    it('runs commands without an id, and other ids, each time; a failure may be retried', async () => {
      cycles = 0;
      await handlers.cycle(req());
      await handlers.cycle(req());
      await handlers.cycle(req('effect-3'));
      expect(cycles).toBe(3);
      fail = true;
      await expect(handlers.cycle(req('effect-4'))).rejects.toMatchObject({ code: 'BMC_UNREACHABLE' });
      fail = false;
      await handlers.cycle(req('effect-4'));
      expect(cycles).toBe(5);
    });

    it('remembers across a rack restart: a cycle it carried out is answered from its journal, one it was cut off in is finished as a power on', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kiln-power-journal-'));
      const file = join(dir, 'power-commands.jsonl');
      const memoryOnDisk = () => new CommandMemory<PowerOutcome>(60_000, 100, Date.now, new CommandJournal(file, 60_000));
      const open = (systemId: string, x: string) => openPowerParameters(box, 'rack-1', systemId, x);
      try {
        cycles = 0;
        ons = 0;
        const first = await createPowerHandlers(ex, open, log, memoryOnDisk()).cycle(req('effect-10'));
        // The rack restarts: a new process reads the journal.
        const again = createPowerHandlers(ex, open, log, memoryOnDisk());
        expect(await again.cycle(req('effect-10'))).toEqual(first);
        expect(cycles).toBe(1);

        // The rack is killed while a cycle runs (here: the cycle never ends), then restarts.
        const hung = new CommandMemory<PowerOutcome>(60_000, 100, Date.now, new CommandJournal(file, 60_000));
        void hung.once('effect-11:cycle', () => new Promise<PowerOutcome>(() => undefined));
        const restarted = createPowerHandlers(ex, open, log, memoryOnDisk());
        await restarted.cycle(req('effect-11'));
        expect(cycles).toBe(1);
        expect(ons).toBe(1);
        expect(logs.join('\n')).toContain('interrupted by a rack restart');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
