// A pino logger whose JSON lines a test can read back.
import pino, { Logger } from 'pino';

export interface CapturedLog {
  log: Logger;
  lines: Array<Record<string, unknown> & { msg?: string; level: number }>;
}

export function capturedLogger(level = 'debug'): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  const log = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}
