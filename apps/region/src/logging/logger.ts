import { AsyncLocalStorage } from 'node:async_hooks';
import { LoggerService } from '@nestjs/common';
import type { BusContext } from '@kiln/contracts/nats';
import pino, { DestinationStream, Logger } from 'pino';

/**
 * Structured JSON logs. Each unit of work (an API request, a job, a NATS request) runs inside a
 * context whose bindings (systemId, mac, rackId, jobId, requestId, correlationId, user) every log
 * line carries, each key once: a context that binds a key again replaces its value.
 *
 * Correlation ids: an API request's id is the correlation id of everything it causes; a job
 * carries the correlation id of the request that queued it in its data (or goes by its own id);
 * NATS messages carry the current one in their headers (see busContext), so the rack's lines for a
 * power command carry the same correlationId as the region's lines that sent it.
 */
type Bindings = Record<string, unknown>;
interface Unit {
  logger: Logger;
  bindings: Bindings;
}

const context = new AsyncLocalStorage<Unit>();
let root: Logger = pino({ level: process.env.KILN_LOG_LEVEL || 'info', base: { service: 'kiln-region' } });

/** `destination`: where lines go (stdout by default; tests read them back). */
export function configureRootLogger(level: string, service = 'kiln-region', destination?: DestinationStream): Logger {
  root = destination ? pino({ level, base: { service } }, destination) : pino({ level, base: { service } });
  return root;
}

export function log(): Logger {
  return context.getStore()?.logger ?? root;
}

function unit(bindings: Bindings): Unit {
  const merged = { ...(context.getStore()?.bindings ?? {}), ...bindings };
  return { logger: root.child(merged), bindings: merged };
}

export function withLogContext<T>(bindings: Bindings, fn: () => T): T {
  return context.run(unit(bindings), fn);
}

/** Adds bindings to the current unit of work's logger (e.g. once the machine is known). */
export function bindLogContext(bindings: Bindings): void {
  if (context.getStore()) context.enterWith(unit(bindings));
}

/** The correlation id of the unit of work running now: its correlationId, else its API request's id. */
export function currentCorrelationId(): string | undefined {
  const b = context.getStore()?.bindings;
  const id = b?.correlationId ?? b?.requestId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The region's bus and its logs: what the region sends from inside a unit of work carries its
 * correlation id, and every request, push or durable event it handles runs bound to the sender's.
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
