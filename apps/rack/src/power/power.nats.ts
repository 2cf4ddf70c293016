import {
  ContractError,
  HEADER_CORRELATION,
  MessageVerifier,
  PowerCycle,
  PowerOff,
  PowerOn,
  PowerQuery,
  PowerQueryBatch,
  PowerSetBootDevice,
  RpcContract,
  describeIssues,
  replyEnvelope,
  signatureOfHeaders,
} from '@kiln/contracts';
import { randomUUID } from 'node:crypto';
import { Msg, NatsConnection, Subscription } from 'nats';
import { PowerHandlers, PowerLog } from './power.handler';

/**
 * The NATS side of the rack's power handlers: one subscription per power subject of this rack
 * (`rack.<rackId>.power.on|off|cycle|query|set_boot_device|query_batch`), requests validated
 * against the contracts on receipt, replies in the contracts' envelope ({ok, data} or
 * {ok: false, error: {code, message}}), so a region calling through ContractBus understands them.
 */
export interface PowerNatsOptions {
  /** Subject prefix shared with the region's bus (deployment or test isolation). */
  prefix?: string;
  log?: PowerLog & { error?(obj: object, msg: string): void };
  /**
   * Acts only on requests signed by a region (the key the rack pinned): anyone else on the bus,
   * or a replayed or stale request, is answered UNAUTHENTICATED and the BMC is never called.
   * Always required: a rack never drives a BMC for an unsigned request.
   */
  verifier: MessageVerifier;
}

export interface PowerNatsServer {
  subjects: string[];
  /** Stops taking requests and waits for the ones in flight to be answered. */
  stop(): Promise<void>;
}

const encode = (v: unknown) => Buffer.from(JSON.stringify(v));

export function servePowerOverNats(nc: NatsConnection, rackId: string, handlers: PowerHandlers, opts: PowerNatsOptions): PowerNatsServer {
  const prefix = opts.prefix ?? '';
  const log = opts.log;
  const inFlight = new Set<Promise<void>>();
  const subs: Subscription[] = [];

  const serve = <C extends RpcContract>(c: C, handler: (req: never) => Promise<unknown>) => {
    const subject = `${prefix}${c.subject(rackId)}`;
    const envelope = replyEnvelope(c.reply);
    const sub = nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          log?.warn({ err: err.message, subject }, 'power subscription error');
          return;
        }
        const p = answer(c, envelope, handler, msg).finally(() => inFlight.delete(p));
        inFlight.add(p);
      },
    });
    subs.push(sub);
    return subject;
  };

  const answer = async <C extends RpcContract>(c: C, envelope: ReturnType<typeof replyEnvelope>, handler: (req: never) => Promise<unknown>, msg: Msg) => {
    const correlationId = msg.headers?.get(HEADER_CORRELATION) || randomUUID();
    const reply = (body: unknown) => {
      if (!msg.reply) return;
      try {
        msg.respond(encode(body));
      } catch (e) {
        log?.warn({ err: (e as Error).message, contract: c.name, correlationId }, 'could not send power reply');
      }
    };
    const fail = (code: string, message: string) => reply({ ok: false, error: { code, message: message.slice(0, 4096) } });
    const refused = opts.verifier.check(msg.subject, msg.data, signatureOfHeaders(msg.headers));
    if (refused) {
      log?.warn({ contract: c.name, subject: msg.subject, correlationId, refused }, 'power request refused: not signed by a region');
      return fail('UNAUTHENTICATED', `request refused (${refused})`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(msg.data).toString('utf8'));
    } catch {
      return fail('BAD_REQUEST', 'request is not JSON');
    }
    const req = c.request.safeParse(raw);
    if (!req.success) return fail('BAD_REQUEST', describeIssues(req.error));
    try {
      const out = await handler(req.data as never);
      const checked = envelope.safeParse({ ok: true, data: out });
      if (!checked.success) {
        log?.error?.({ contract: c.name, correlationId, issues: describeIssues(checked.error) }, 'power handler produced an invalid reply');
        return fail('INTERNAL', 'the rack produced an invalid reply');
      }
      reply(checked.data);
    } catch (e) {
      if (e instanceof ContractError) return fail(e.code, e.message);
      log?.error?.({ err: (e as Error).message, contract: c.name, correlationId }, 'power handler failed');
      return fail('INTERNAL', 'internal error; the rack logged the details');
    }
  };

  const subjects = [
    serve(PowerOn, handlers.on),
    serve(PowerOff, handlers.off),
    serve(PowerCycle, handlers.cycle),
    serve(PowerQuery, handlers.query),
    serve(PowerSetBootDevice, handlers.setBootDevice),
    serve(PowerQueryBatch, handlers.queryBatch),
  ];

  return {
    subjects,
    stop: async () => {
      for (const s of subs) s.unsubscribe();
      await Promise.all([...inFlight]);
    },
  };
}
