import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** One line of the journal: a command started, finished (with its outcome) or failed. */
type Line = { k: string; at: number } & ({ s: 'started' } | { s: 'done'; o: unknown } | { s: 'failed' });

export interface JournalState<T> {
  /** Commands carried out, with their outcome. */
  done: Map<string, { at: number; outcome: T }>;
  /** Commands started and never finished: the rack stopped while it ran them. */
  interrupted: Map<string, number>;
}

/**
 * The rack's power commands on disk (a JSON line per start and end, in the rack's state dir), so
 * that a rack that restarts still knows which commands it carried out, and which it was carrying
 * out when it stopped. Lines older than the memory's lifetime are dropped when the journal loads.
 * Written synchronously: a power command is rare, and a line written before a BMC is driven
 * survives the process being killed.
 */
export class CommandJournal<T> {
  constructor(
    private readonly path: string,
    private readonly ttlMs: number,
  ) {}

  /** Reads what a previous run left, and rewrites the file with only what is still young. */
  load(now = Date.now()): JournalState<T> {
    const state: JournalState<T> = { done: new Map(), interrupted: new Map() };
    if (!existsSync(this.path)) return state;
    const keep: Line[] = [];
    for (const raw of readFileSync(this.path, 'utf8').split('\n')) {
      if (!raw) continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue; // a line cut short by a crash
      }
      if (typeof line?.k !== 'string' || typeof line.at !== 'number' || line.at < now - this.ttlMs) continue;
      if (line.s === 'started') state.interrupted.set(line.k, line.at);
      else {
        state.interrupted.delete(line.k);
        if (line.s === 'done') state.done.set(line.k, { at: line.at, outcome: line.o as T });
        else state.done.delete(line.k);
      }
      keep.push(line);
    }
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, keep.map((l) => `${JSON.stringify(l)}\n`).join(''), { mode: 0o600 });
    renameSync(tmp, this.path);
    return state;
  }

  started(key: string, at: number): void {
    this.append({ k: key, at, s: 'started' });
  }

  done(key: string, at: number, outcome: T): void {
    this.append({ k: key, at, s: 'done', o: outcome });
  }

  failed(key: string, at: number): void {
    this.append({ k: key, at, s: 'failed' });
  }

  private append(line: Line): void {
    appendFileSync(this.path, `${JSON.stringify(line)}\n`, { mode: 0o600 });
  }
}
