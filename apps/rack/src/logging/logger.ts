import { AsyncLocalStorage } from 'node:async_hooks';
import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

/**
 * Structured JSON logs for the rack. Each unit of work (a packet, a transfer, a NATS request) runs
 * inside a context whose bindings (rackId, mac, xid, systemId, iface) every line carries.
 */
const context = new AsyncLocalStorage<Logger>();
let root: Logger = pino({ level: process.env.KILN_LOG_LEVEL || 'info', base: { service: 'kiln-rack' } });

export function configureRootLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  root = pino({ level, base: { service: 'kiln-rack', ...bindings } });
  return root;
}

/** Adds bindings (the rack id, once known) to every later line. */
export function bindRootLogger(bindings: Record<string, unknown>): void {
  root = root.child(bindings);
}

export function log(): Logger {
  return context.getStore() ?? root;
}

export function withLogContext<T>(bindings: Record<string, unknown>, fn: () => T): T {
  return context.run(log().child(bindings), fn);
}

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
