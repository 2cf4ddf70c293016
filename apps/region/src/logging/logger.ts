import { AsyncLocalStorage } from 'node:async_hooks';
import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

/**
 * Structured JSON logs. Each unit of work (an API request, a job) runs inside a context whose
 * bindings (systemId, mac, rackId, jobId, requestId, user) every log line carries.
 */
const context = new AsyncLocalStorage<Logger>();
let root: Logger = pino({ level: process.env.KILN_LOG_LEVEL || 'info', base: { service: 'kiln-region' } });

export function configureRootLogger(level: string, service = 'kiln-region'): Logger {
  root = pino({ level, base: { service } });
  return root;
}

export function log(): Logger {
  return context.getStore() ?? root;
}

export function withLogContext<T>(bindings: Record<string, unknown>, fn: () => T): T {
  return context.run(log().child(bindings), fn);
}

/** Adds bindings to the current unit of work's logger (e.g. once the machine is known). */
export function bindLogContext(bindings: Record<string, unknown>): void {
  const current = context.getStore();
  if (current) context.enterWith(current.child(bindings));
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
