import { AsyncLocalStorage } from 'node:async_hooks';
import { LoggerService } from '@nestjs/common';
import type { BusContext } from '@kiln/contracts/nats';
import pino, { DestinationStream, Logger } from 'pino';

/**
 * Structured JSON logs for the rack. Each unit of work (a packet, a transfer, a NATS request) runs
 * inside a context whose bindings (rackId, mac, xid, systemId, iface, correlationId) every line
 * carries. A key is bound once per line: a context that binds a key again replaces its value
 * instead of adding a second copy (pino's child loggers would repeat it, and some log shippers
 * refuse a JSON line with a repeated key).
 */
type Bindings = Record<string, unknown>;
interface Unit {
  logger: Logger;
  bindings: Bindings;
}

const context = new AsyncLocalStorage<Unit>();
let base: Logger = pino({ level: process.env.KILN_LOG_LEVEL || 'info', base: { service: 'kiln-rack' } });
let rootBindings: Bindings = {};
let root: Logger = base;

/** `destination`: where lines go (stdout by default; tests read them back). */
export function configureRootLogger(level: string, bindings: Bindings = {}, destination?: DestinationStream): Logger {
  base = destination ? pino({ level, base: { service: 'kiln-rack' } }, destination) : pino({ level, base: { service: 'kiln-rack' } });
  rootBindings = { ...bindings };
  root = base.child(rootBindings);
  return root;
}

/** Adds bindings (the rack id, once known) to every later line. */
export function bindRootLogger(bindings: Bindings): void {
  rootBindings = { ...rootBindings, ...bindings };
  root = base.child(rootBindings);
}

export function log(): Logger {
  return context.getStore()?.logger ?? root;
}

/** Runs `fn` as a unit of work whose lines carry `bindings` on top of the current ones. */
export function withLogContext<T>(bindings: Bindings, fn: () => T): T {
  const merged = { ...(context.getStore()?.bindings ?? {}), ...bindings };
  // Built from the base logger with every binding once (the root's are folded in, not repeated).
  const logger = base.child({ ...rootBindings, ...merged });
  return context.run({ logger, bindings: merged }, fn);
}

/** The correlation id of the unit of work running now (a NATS request's, carried from the region). */
export function currentCorrelationId(): string | undefined {
  const id = context.getStore()?.bindings.correlationId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The rack's bus and its logs: every request or push the rack handles runs as a unit of work bound
 * to the sender's correlation id, and whatever the rack sends from inside one carries that id on.
 */
export const busContext: BusContext = {
  correlationId: currentCorrelationId,
  run: (ctx, fn) => withLogContext({ correlationId: ctx.correlationId }, fn),
};

/** Routes NestJS's own log lines into pino. */
export class PinoNestLogger implements LoggerService {
  log(message: unknown, ctx?: string) {
    log().info({ ctx }, String(message));
  }
  error(message: unknown, trace?: string, ctx?: string) {
    log().error({ ctx, trace }, String(message));
  }
  warn(message: unknown, ctx?: string) {
    log().warn({ ctx }, String(message));
  }
  debug(message: unknown, ctx?: string) {
    log().debug({ ctx }, String(message));
  }
  verbose(message: unknown, ctx?: string) {
    log().trace({ ctx }, String(message));
  }
}
