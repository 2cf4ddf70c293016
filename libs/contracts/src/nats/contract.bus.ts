import { randomUUID } from 'node:crypto';
import {
  AckPolicy,
  ConsumerMessages,
  DeliverPolicy,
  ErrorCode,
  headers as natsHeaders,
  JetStreamClient,
  JsMsg,
  Msg,
  MsgHdrs,
  NatsConnection,
  NatsError,
  nanos,
  RetentionPolicy,
  StorageType,
  Subscription,
} from 'nats';
import { z } from 'zod';
import {
  ContractError,
  describeIssues,
  ErrorCodeOf,
  HEADER_CORRELATION,
  HEADER_PROTOCOL,
  MessageIn,
  MessageOf,
  PROTOCOL_VERSION,
  PushContract,
  ReplyIn,
  ReplyOf,
  replyEnvelope,
  RequestIn,
  RequestOf,
  RpcContract,
  StreamContract,
} from '../contract';
import { HEADER_NONCE, HEADER_SIGNATURE, HEADER_SIGNED_AT, MessageSigner, MessageVerifier, signatureOfHeaders } from '../crypto/message-signature';

/** The few pino methods the bus logs with. */
export interface BusLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silent: BusLogger = { debug: () => undefined, warn: () => undefined, error: () => undefined };

export interface BusOptions {
  /**
   * Prepended to every subject and (sanitised) to every stream name, so that deployments or
   * tests sharing one NATS server stay apart. E.g. "t-1234." ('' in production).
   */
  prefix?: string;
  /** Request timeout when the call does not give one. */
  timeoutMs?: number;
  log?: BusLogger;
  /**
   * A region's bus: signs every request, push and reply it sends, so that racks can tell a region
   * from anyone else on the bus.
   */
  signer?: MessageSigner;
  /**
   * A rack's bus: requests and pushes it serves, and replies it receives, must carry a valid,
   * fresh, unreplayed region signature; anything else is refused (requests answer
   * UNAUTHENTICATED, pushes are dropped, replies fail with BAD_REPLY) and logged.
   */
  verifier?: MessageVerifier;
  /**
   * How the app's units of work meet the bus: the correlation id a call or push carries when it
   * gives none, and the context every handler of a received message runs in (e.g. a child logger
   * bound to the message's correlation id, through AsyncLocalStorage). Without it, calls carry a
   * fresh id and handlers run in whatever context the NATS client delivers in.
   */
  context?: BusContext;
}

/** The app side of correlation ids (see BusOptions.context). */
export interface BusContext {
  /** The correlation id of the unit of work running now, or undefined outside one. */
  correlationId(): string | undefined;
  /** Runs the handler of one received message as its own unit of work. */
  run<T>(ctx: HandlerContext, fn: () => T): T;
}

/**
 * The handlers of received requests that have not been answered yet: whoever stops serving
 * unsubscribes first, then waits for `settled()` so that no request in flight goes unanswered.
 */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  add(p: Promise<unknown>): void {
    // Settles either way: a failure is the tracked promise's owner's to report, not the tracker's.
    const tracked: Promise<unknown> = p.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  get size(): number {
    return this.pending.size;
  }

  async settled(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}

export interface ServeOptions {
  /** Shares the subject between several servers (every region uses the same queue, so one answers). */
  queue?: string;
  /** Tracks this subject's requests in flight (see InFlight). */
  inFlight?: InFlight;
}

export interface CallOptions {
  timeoutMs?: number;
  correlationId?: string;
}

export interface HandlerContext {
  subject: string;
  /** From the message's headers (the sender's unit of work), or a fresh one when it carried none. */
  correlationId: string;
}

export interface DurableMeta {
  subject: string;
  /** 1 on first delivery. */
  deliveryCount: number;
  redelivered: boolean;
  streamSequence: number;
  /** From the message's headers (the publisher's unit of work), or a fresh one. */
  correlationId: string;
}

export interface DurableConsumerOptions {
  /** Durable consumer name; every region uses the same one, so each event goes to one of them. */
  durable: string;
  /** Subject filter relative to the prefix (defaults to all of the stream's subjects). */
  filterSubject?: string;
  /** Time to process one message before JetStream redelivers it. */
  ackWaitMs?: number;
  maxDeliver?: number;
  /** Delay before a failed message is redelivered. */
  retryDelayMs?: number;
}

export interface Consumption {
  stop(): Promise<void>;
}

const codec = {
  encode: (v: unknown) => Buffer.from(JSON.stringify(v)),
  decode: (b: Uint8Array): unknown => JSON.parse(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8')),
};

/**
 * A typed client and server over one NATS connection for the contracts of '@kiln/contracts':
 * request/reply with timeouts and coded errors, core pushes, JetStream publish with ack and
 * durable consumers. Everything received is validated against the contract before a handler sees it.
 */
export class ContractBus {
  readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly log: BusLogger;
  private readonly signer: MessageSigner | undefined;
  private readonly verifier: MessageVerifier | undefined;
  private readonly context: BusContext | undefined;
  private js: JetStreamClient | null = null;

  constructor(
    readonly nc: NatsConnection,
    opts: BusOptions = {},
  ) {
    this.prefix = opts.prefix ?? '';
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.log = opts.log ?? silent;
    this.signer = opts.signer;
    this.verifier = opts.verifier;
    this.context = opts.context;
  }

  /** True when everything this bus acts on must carry a valid region signature (a rack's bus). */
  get verifies(): boolean {
    return this.verifier !== undefined;
  }

  /** The correlation id an outgoing message carries: the caller's, else the current unit of work's, else a fresh one. */
  private correlationOf(given: string | undefined): string {
    return given ?? this.context?.correlationId() ?? randomUUID();
  }

  /** Runs a received message's handler inside the app's unit-of-work context, if it gave one. */
  private within<T>(ctx: HandlerContext, fn: () => T): T {
    return this.context ? this.context.run(ctx, fn) : fn();
  }

  subject(relative: string): string {
    return `${this.prefix}${relative}`;
  }

  streamName(c: StreamContract): string {
    const p = this.prefix.replace(/[^A-Za-z0-9_-]/g, '_');
    return `${p}${c.stream}`;
  }

  /** Calls an rpc contract. Throws ContractError with one of the contract's codes or a common one. */
  async request<C extends RpcContract>(
    c: C,
    args: Parameters<C['subject']>,
    req: RequestIn<C>,
    opts: CallOptions = {},
  ): Promise<ReplyOf<C>> {
    const parsed = c.request.safeParse(req);
    if (!parsed.success) throw new ContractError('BAD_REQUEST', `${c.name}: ${describeIssues(parsed.error)}`);
    const subject = this.subject(c.subject(...args));
    const data = codec.encode(parsed.data);
    const h = this.headers(this.correlationOf(opts.correlationId), subject, data);
    let msg: Msg;
    try {
      msg = await this.nc.request(subject, data, { timeout: opts.timeoutMs ?? this.timeoutMs, headers: h });
    } catch (e) {
      throw transportError(c.name, e);
    }
    const refused = this.refusal(msg);
    if (refused) {
      this.log.warn({ contract: c.name, subject, refused }, 'reply refused: not signed by a region');
      throw new ContractError('BAD_REPLY', `${c.name}: reply refused (${refused})`);
    }
    let body: unknown;
    try {
      body = codec.decode(msg.data);
    } catch {
      throw new ContractError('BAD_REPLY', `${c.name}: reply is not JSON`);
    }
    const env = replyEnvelope(c.reply).safeParse(body);
    if (!env.success) throw new ContractError('BAD_REPLY', `${c.name}: ${describeIssues(env.error)}`);
    if (!env.data.ok) throw new ContractError(env.data.error.code as ErrorCodeOf<C>, env.data.error.message);
    return env.data.data as ReplyOf<C>;
  }

  /**
   * Answers an rpc contract: each request's signature (on a verifying bus), JSON and schema are
   * checked before `handler` sees it; the handler runs in the bus's context bound to the request's
   * correlation id; its reply is checked against the contract, and its ContractErrors are
   * answered with their codes (anything else is INTERNAL, logged here with the details).
   */
  serve<C extends RpcContract>(
    c: C,
    args: Parameters<C['subject']>,
    handler: (req: RequestOf<C>, ctx: HandlerContext) => Promise<ReplyIn<C>> | ReplyIn<C>,
    opts: ServeOptions = {},
  ): Subscription {
    const subject = this.subject(c.subject(...args));
    const envelope = replyEnvelope(c.reply);
    return this.nc.subscribe(subject, {
      queue: opts.queue,
      callback: (err, msg) => {
        if (err) {
          this.log.warn({ err, subject }, 'subscription error');
          return;
        }
        const answered = this.answer(c, msg, envelope, handler);
        opts.inFlight?.add(answered);
      },
    });
  }

  private async answer<C extends RpcContract>(
    c: C,
    msg: Msg,
    envelope: z.ZodTypeAny,
    handler: (req: RequestOf<C>, ctx: HandlerContext) => Promise<ReplyIn<C>> | ReplyIn<C>,
  ): Promise<void> {
    const correlationId = msg.headers?.get(HEADER_CORRELATION) || randomUUID();
    const reply = (body: unknown) => {
      if (!msg.reply) return;
      try {
        const data = codec.encode(body);
        msg.respond(data, this.signer ? { headers: this.headers(correlationId, msg.reply, data) } : undefined);
      } catch (err) {
        this.log.warn({ err, contract: c.name, correlationId }, 'could not send reply');
      }
    };
    const fail = (code: string, message: string) => reply({ ok: false, error: { code, message: message.slice(0, 4096) } });
    const refused = this.refusal(msg);
    if (refused) {
      this.log.warn({ contract: c.name, subject: msg.subject, correlationId, refused }, 'request refused: not signed by a region');
      return fail('UNAUTHENTICATED', `request refused (${refused})`);
    }
    let raw: unknown;
    try {
      raw = codec.decode(msg.data);
    } catch {
      this.log.warn({ contract: c.name, subject: msg.subject, correlationId }, 'request is not JSON');
      return fail('BAD_REQUEST', 'request is not JSON');
    }
    const req = c.request.safeParse(raw);
    if (!req.success) {
      const message = describeIssues(req.error);
      this.log.warn({ contract: c.name, subject: msg.subject, correlationId, issues: message }, 'invalid request refused');
      return fail('BAD_REQUEST', message);
    }
    try {
      const ctx = { subject: msg.subject, correlationId };
      const out = await this.within(ctx, () => handler(req.data, ctx));
      const checked = envelope.safeParse({ ok: true, data: out });
      if (!checked.success) {
        this.log.error({ contract: c.name, correlationId, issues: describeIssues(checked.error) }, 'handler produced an invalid reply');
        return fail('INTERNAL', 'the answering side produced an invalid reply');
      }
      reply(checked.data);
    } catch (e) {
      if (e instanceof ContractError) {
        this.log.debug({ contract: c.name, code: e.code, correlationId }, 'request refused');
        return fail(e.code, e.message);
      }
      this.log.error({ err: e, contract: c.name, correlationId }, 'request handler failed');
      return fail('INTERNAL', 'internal error; the answering side logged the details');
    }
  }

  /** One-way push over core NATS. */
  push<C extends PushContract>(c: C, args: Parameters<C['subject']>, message: MessageIn<C>, correlationId?: string): void {
    const parsed = c.message.safeParse(message);
    if (!parsed.success) throw new ContractError('BAD_REQUEST', `${c.name}: ${describeIssues(parsed.error)}`);
    const subject = this.subject(c.subject(...args));
    const data = codec.encode(parsed.data);
    this.nc.publish(subject, data, { headers: this.headers(this.correlationOf(correlationId), subject, data) });
  }

  /** Receives pushes; invalid messages are logged and dropped. */
  onPush<C extends PushContract>(
    c: C,
    args: Parameters<C['subject']>,
    handler: (message: MessageOf<C>, ctx: HandlerContext) => Promise<void> | void,
  ): Subscription {
    const subject = this.subject(c.subject(...args));
    return this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        const correlationId = msg.headers?.get(HEADER_CORRELATION) || randomUUID();
        const refused = this.refusal(msg);
        if (refused) {
          this.log.warn({ contract: c.name, subject: msg.subject, refused }, 'push dropped: not signed by a region');
          return;
        }
        let parsed;
        try {
          parsed = c.message.safeParse(codec.decode(msg.data));
        } catch {
          this.log.warn({ contract: c.name, subject: msg.subject }, 'push is not JSON; dropped');
          return;
        }
        if (!parsed.success) {
          this.log.warn({ contract: c.name, subject: msg.subject, issues: describeIssues(parsed.error) }, 'invalid push dropped');
          return;
        }
        const ctx = { subject: msg.subject, correlationId };
        Promise.resolve()
          .then(() => this.within(ctx, () => handler(parsed.data, ctx)))
          .catch((e) => this.log.error({ err: e, contract: c.name, correlationId }, 'push handler failed'));
      },
    });
  }

  /** Creates (or updates) the stream a durable contract lives in. Idempotent; safe from every region. */
  async ensureStream(c: StreamContract, opts: { maxAgeMs?: number; duplicateWindowMs?: number } = {}): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    const config = {
      name: this.streamName(c),
      subjects: c.streamSubjects.map((s) => this.subject(s)),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(opts.maxAgeMs ?? 7 * 24 * 3600_000),
      duplicate_window: nanos(opts.duplicateWindowMs ?? 10 * 60_000),
    };
    try {
      await jsm.streams.info(config.name);
      await jsm.streams.update(config.name, config);
    } catch (e) {
      if (e instanceof NatsError && e.api_error?.err_code === 10059) {
        await jsm.streams.add(config);
      } else {
        throw e;
      }
    }
  }

  /** Deletes a stream (tests clean up with it). */
  async deleteStream(c: StreamContract): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await jsm.streams.delete(this.streamName(c)).catch(() => undefined);
  }

  /**
   * Publishes a durable fact and waits for JetStream's ack. The contract's id is the JetStream
   * message id, so a retried publish within the duplicate window is stored once.
   */
  async publishDurable<C extends StreamContract>(
    c: C,
    args: Parameters<C['subject']>,
    message: MessageIn<C>,
    opts: CallOptions = {},
  ): Promise<{ seq: number; duplicate: boolean }> {
    const parsed = c.message.safeParse(message);
    if (!parsed.success) throw new ContractError('BAD_REQUEST', `${c.name}: ${describeIssues(parsed.error)}`);
    this.js ??= this.nc.jetstream();
    try {
      const subject = this.subject(c.subject(...args));
      const data = codec.encode(parsed.data);
      const ack = await this.js.publish(subject, data, {
        msgID: c.id(parsed.data),
        timeout: opts.timeoutMs ?? this.timeoutMs,
        headers: this.headers(this.correlationOf(opts.correlationId), subject, data),
      });
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (e) {
      throw transportError(c.name, e);
    }
  }

  /**
   * Consumes a durable contract at least once. A message is acked after `handler` resolves; a
   * handler failure is retried after `retryDelayMs`; a message that fails validation is logged
   * and terminated (it can never succeed). Handlers must be idempotent.
   */
  async consumeDurable<C extends StreamContract>(
    c: C,
    opts: DurableConsumerOptions,
    handler: (message: MessageOf<C>, meta: DurableMeta) => Promise<void>,
  ): Promise<Consumption> {
    const jsm = await this.nc.jetstreamManager();
    const stream = this.streamName(c);
    const config = {
      durable_name: opts.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(opts.ackWaitMs ?? 30_000),
      max_deliver: opts.maxDeliver ?? -1,
      ...(opts.filterSubject ? { filter_subject: this.subject(opts.filterSubject) } : {}),
    };
    try {
      await jsm.consumers.info(stream, opts.durable);
      await jsm.consumers.update(stream, opts.durable, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        ...(opts.filterSubject ? { filter_subject: config.filter_subject } : {}),
      });
    } catch (e) {
      if (e instanceof NatsError && e.api_error?.err_code === 10014) await jsm.consumers.add(stream, config);
      else throw e;
    }
    this.js ??= this.nc.jetstream();
    const consumer = await this.js.consumers.get(stream, opts.durable);
    const messages: ConsumerMessages = await consumer.consume({ max_messages: 64 });
    const retryDelayMs = opts.retryDelayMs ?? 1000;
    const loop = (async () => {
      for await (const m of messages) await this.deliver(c, m, handler, retryDelayMs);
    })().catch((err) => this.log.error({ err, contract: c.name }, 'durable consumer stopped'));
    return {
      stop: async () => {
        messages.stop();
        await loop;
      },
    };
  }

  private async deliver<C extends StreamContract>(
    c: C,
    m: JsMsg,
    handler: (message: MessageOf<C>, meta: DurableMeta) => Promise<void>,
    retryDelayMs: number,
  ): Promise<void> {
    let parsed;
    try {
      parsed = c.message.safeParse(codec.decode(m.data));
    } catch {
      parsed = null;
    }
    if (!parsed?.success) {
      this.log.warn(
        { contract: c.name, subject: m.subject, seq: m.seq, issues: parsed ? describeIssues(parsed.error) : 'not JSON' },
        'invalid durable message terminated',
      );
      m.term();
      return;
    }
    const correlationId = m.headers?.get(HEADER_CORRELATION) || randomUUID();
    const meta = { subject: m.subject, deliveryCount: m.info.redeliveryCount, redelivered: m.redelivered, streamSequence: m.seq, correlationId };
    try {
      await this.within({ subject: m.subject, correlationId }, () => handler(parsed.data, meta));
      m.ack();
    } catch (err) {
      this.log.warn({ err, contract: c.name, seq: m.seq, deliveryCount: m.info.redeliveryCount }, 'durable message failed; will retry');
      m.nak(retryDelayMs);
    }
  }

  /** Why a received message must not be acted on (no valid region signature), or null. */
  private refusal(msg: Msg): string | null {
    return this.verifier ? this.verifier.check(msg.subject, msg.data, signatureOfHeaders(msg.headers)) : null;
  }

  private headers(correlationId: string, subject: string, data: Uint8Array): MsgHdrs {
    const h = natsHeaders();
    h.set(HEADER_PROTOCOL, String(PROTOCOL_VERSION));
    h.set(HEADER_CORRELATION, correlationId);
    if (this.signer) {
      const s = this.signer.sign(subject, data);
      h.set(HEADER_SIGNATURE, s.signature);
      h.set(HEADER_SIGNED_AT, String(s.signedAt));
      h.set(HEADER_NONCE, s.nonce);
    }
    return h;
  }
}

function transportError(name: string, e: unknown): ContractError {
  if (e instanceof NatsError) {
    if (e.code === ErrorCode.Timeout) return new ContractError('TIMEOUT', `${name}: no answer in time`);
    if (e.code === ErrorCode.NoResponders) return new ContractError('UNAVAILABLE', `${name}: nobody answers ${e.message}`);
    if (e.code === ErrorCode.ConnectionClosed || e.code === ErrorCode.ConnectionDraining || e.code === ErrorCode.Disconnect) {
      return new ContractError('UNAVAILABLE', `${name}: not connected to NATS`);
    }
    if (e.code === '503') return new ContractError('UNAVAILABLE', `${name}: ${e.message}`);
  }
  return new ContractError('UNAVAILABLE', `${name}: ${(e as Error)?.message ?? String(e)}`);
}
