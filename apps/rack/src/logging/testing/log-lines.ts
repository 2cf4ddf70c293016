import type { DestinationStream } from 'pino';

/** A pino destination that keeps every line, for tests that read the rack's logs back. */
export class CapturedLines implements DestinationStream {
  readonly lines: string[] = [];

  write(line: string): void {
    for (const l of line.split('\n')) if (l.trim()) this.lines.push(l);
  }

  parsed(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

/**
 * The keys of a JSON object line at its top level, in order and with repeats (JSON.parse keeps
 * only the last of a repeated key, so it cannot tell whether a line repeats one).
 */
export function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(line.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (ch === '{' || ch === '[') {
      depth++;
      expectKey = ch === '{' && depth === 1;
    } else if (ch === '}' || ch === ']') {
      depth--;
    } else if (ch === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

/** The keys a line repeats at its top level. */
export function repeatedKeys(line: string): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const k of topLevelKeys(line)) (seen.has(k) ? repeated : seen).add(k);
  return [...repeated];
}
