import { randomBytes } from 'node:crypto';

/**
 * Connection settings of the real services medium tests share (the ones on the machine, or CI's).
 * NATS is not one of them: tests start their own nats-server with auth on (nats-server.harness.ts).
 */
export const testServices = {
  redisUrl: process.env.KILN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
};

/** A prefix that keeps one test's queues and keys apart from every other test's. */
export function uniquePrefix(what = 'kiln-test'): string {
  return `${what}-${process.pid}-${randomBytes(4).toString('hex')}`;
}
