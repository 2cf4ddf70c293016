import { z } from 'zod';

/**
 * The shape of every NATS conversation between region and rack. One object per subject: who
 * answers it, since which protocol version it exists, what the request and the reply look like
 * (zod schemas, validated on receipt at both ends) and which error codes it may answer with.
 *
 * Subjects are cut by who answers: `region.*` subjects are answered (or consumed) by a region,
 * `rack.<rackId>.*` subjects by one rack. New fields must be optional or defaulted, so that an
 * older peer keeps working; a breaking change is a new subject with a higher `since`.
 *
 * This file and the contracts next to it are framework-free (zod only); the NATS transport lives
 * in `./nats`, which only apps import.
 */

/** The protocol version this build speaks. A contract's `since` is the version that added it. */
export const PROTOCOL_VERSION = 1;

/** Error codes any request may answer with, on top of the contract's own. */
export const COMMON_ERRORS = [
  /** The request failed validation on receipt. */
  'BAD_REQUEST',
  /** The reply failed validation on receipt. */
  'BAD_REPLY',
  /** The answering side failed; its log has the details. */
  'INTERNAL',
  /** Nobody answered in time. */
  'TIMEOUT',
  /** Nobody is listening on the subject (no region, rack offline) or the connection is down. */
  'UNAVAILABLE',
  /** The request did not carry a valid region signature (see crypto/message-signature.ts). */
  'UNAUTHENTICATED',
] as const;
export type CommonErrorCode = (typeof COMMON_ERRORS)[number];

export type Answerer = 'region' | 'rack';

/** Request/reply: exactly one answer, with a timeout. */
export interface RpcContract<
  A extends unknown[] = unknown[],
  Req extends z.ZodTypeAny = z.ZodTypeAny,
  Rep extends z.ZodTypeAny = z.ZodTypeAny,
  E extends string = string,
> {
  readonly kind: 'rpc';
  readonly name: string;
  readonly answeredBy: Answerer;
  readonly since: number;
  subject(...args: A): string;
  readonly request: Req;
  readonly reply: Rep;
  readonly errors: readonly E[];
}

/** One-way push over core NATS: no reply, no durability. The receiver must tolerate loss. */
export interface PushContract<A extends unknown[] = unknown[], M extends z.ZodTypeAny = z.ZodTypeAny> {
  readonly kind: 'push';
  readonly name: string;
  readonly answeredBy: Answerer;
  readonly since: number;
  subject(...args: A): string;
  readonly message: M;
}

/**
 * A durable fact sent through JetStream: published with an ack, stored in `stream`, consumed
 * at-least-once by a durable consumer. `id` names the message field that makes it idempotent
 * (also used as the JetStream message id, so the server drops duplicates within its window).
 */
export interface StreamContract<A extends unknown[] = unknown[], M extends z.ZodTypeAny = z.ZodTypeAny> {
  readonly kind: 'stream';
  readonly name: string;
  readonly answeredBy: Answerer;
  readonly since: number;
  subject(...args: A): string;
  /** Base name of the JetStream stream holding these messages. */
  readonly stream: string;
  /** Subjects the stream captures (before any deployment prefix). */
  readonly streamSubjects: readonly string[];
  readonly message: M;
  readonly id: (message: z.output<M>) => string;
}

export type AnyContract = RpcContract | PushContract | StreamContract;

export function rpc<A extends unknown[], Req extends z.ZodTypeAny, Rep extends z.ZodTypeAny, E extends string = never>(
  def: Omit<RpcContract<A, Req, Rep, E>, 'kind' | 'errors'> & { errors?: readonly E[] },
): RpcContract<A, Req, Rep, E> {
  return { kind: 'rpc', ...def, errors: def.errors ?? [] };
}

export function push<A extends unknown[], M extends z.ZodTypeAny>(def: Omit<PushContract<A, M>, 'kind'>): PushContract<A, M> {
  return { kind: 'push', ...def };
}

export function stream<A extends unknown[], M extends z.ZodTypeAny>(def: Omit<StreamContract<A, M>, 'kind'>): StreamContract<A, M> {
  return { kind: 'stream', ...def };
}

/** What the caller sends (before defaults and transforms). */
export type RequestIn<C extends RpcContract> = z.input<C['request']>;
/** What the answering side's handler receives, validated. */
export type RequestOf<C extends RpcContract> = z.output<C['request']>;
/** What the answering side returns (before defaults and transforms). */
export type ReplyIn<C extends RpcContract> = z.input<C['reply']>;
/** What the caller receives, validated. */
export type ReplyOf<C extends RpcContract> = z.output<C['reply']>;
export type ErrorCodeOf<C extends RpcContract> = C['errors'][number] | CommonErrorCode;
export type MessageIn<C extends PushContract | StreamContract> = z.input<C['message']>;
export type MessageOf<C extends PushContract | StreamContract> = z.output<C['message']>;

/**
 * A coded failure. Handlers throw it to answer with one of the contract's codes; callers catch it
 * and switch on `code`.
 */
export class ContractError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    message: string,
  ) {
    super(message);
    this.name = 'ContractError';
  }
}

export function isContractError(e: unknown, code?: string): e is ContractError {
  return e instanceof ContractError && (code === undefined || e.code === code);
}

/** The wire form of every reply: the data, or a code and a message. */
export const errorBody = z.object({ code: z.string().min(1).max(64), message: z.string().max(4096) });

export function replyEnvelope<S extends z.ZodTypeAny>(data: S) {
  return z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), data }), z.object({ ok: z.literal(false), error: errorBody })]);
}

/** Formats zod issues on one line, for logs and BAD_REQUEST messages. */
export function describeIssues(e: z.ZodError): string {
  return e.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** NATS headers the transport sets: protocol version and a correlation id for logs. */
export const HEADER_PROTOCOL = 'Kiln-Protocol';
export const HEADER_CORRELATION = 'Kiln-Correlation-Id';
