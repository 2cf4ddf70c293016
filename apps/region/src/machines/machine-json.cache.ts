import { Injectable } from '@nestjs/common';
import { writeMachineJson } from './machine.json-writer';
import { MachineRecord } from './machines.repository';

interface Entry {
  key: string;
  json: Buffer;
}

/**
 * Rendered machine JSON, keyed by each machine's render key (machines.render_rev, which triggers
 * bump on any change to what the document shows, plus the names of the zone, pool, domain and
 * owner it joins). A listing re-renders only the machines that changed since it last saw them.
 * Each region keeps its own cache; the key makes it correct whichever region wrote the change.
 */
@Injectable()
export class MachineJsonCache {
  private readonly entries = new Map<number, Entry>();
  private readonly maxEntries = 200_000;

  get(id: number, key: string): Buffer | undefined {
    const e = this.entries.get(id);
    return e && e.key === key ? e.json : undefined;
  }

  render(rec: MachineRecord): Buffer {
    const json = Buffer.from(writeMachineJson(rec));
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(rec.row.id, { key: rec.row.render_key, json });
    return json;
  }

  /** After a full listing: forget machines that no longer exist. */
  retainOnly(ids: Set<number>): void {
    for (const id of this.entries.keys()) if (!ids.has(id)) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
