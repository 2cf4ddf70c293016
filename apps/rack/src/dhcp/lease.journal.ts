// The lease store's file: an append-only journal of lease records, one JSON object per line, with
// full state in every record (not deltas), so replay is "last record per (subnet, address) wins"
// and a compacted snapshot followed by newer appends replays to the same state.
//
// Durability (the fsync policy):
// - Every record an ACK depends on is written with write(2) *before* that ACK is sent (the server
//   batches the records of one event-loop turn into one write: group commit). A written record
//   is in the kernel's page cache, so it survives the rack process crashing or restarting.
// - `fsync: 'interval'` (default) also fdatasyncs the file every `fsyncIntervalMs` (1 s) when
//   something was written, off the event loop: after power loss at most that window of leases is
//   lost. Clients that held them re-request (INIT-REBOOT) and get the same address back while it
//   is free, because the server is authoritative for its ranges.
// - `fsync: 'always'` fdatasyncs each batch before its ACKs leave (power-loss safe, slower).
// - `fsync: 'never'` leaves flushing to the kernel.
// Compaction writes the live records to `<file>.tmp`, fdatasyncs it, renames it over the journal
// and fsyncs the directory, so a crash at any point leaves either the old or the new journal.
// A torn last line (crash mid-write) is dropped on load.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface JournalRecord {
  /** b = bound, r = released, d = declined. */
  t: 'b' | 'r' | 'd';
  /** Subnet id. */
  s: string;
  ip: string;
  /** MAC ("" for a declined address). */
  m: string;
  /** Expiry, epoch ms (bound: lease end; declined: probation end; released: release time). */
  e: number;
  /** Client identifier hex. */
  c?: string;
  /** Hostname. */
  h?: string;
}

const HEADER = JSON.stringify({ kiln: 'dhcp-leases', v: 1 }) + '\n';

export interface JournalLoadResult {
  records: JournalRecord[];
  /** Lines that did not parse as records (counted, skipped). */
  badLines: number;
  /** Bytes of a torn final line that were cut off. */
  tornBytes: number;
}

export class LeaseJournal {
  private fd: number;
  private pending: string[] = [];
  private dirty = false;
  private syncing = false;
  private timer: NodeJS.Timeout | undefined;
  /** Records in the file (since the last compaction), for the compaction trigger. */
  records = 0;
  /** write(2) calls made, for stats. */
  writes = 0;
  syncs = 0;
  closed = false;

  constructor(
    readonly file: string,
    readonly policy: FsyncPolicy = 'interval',
    readonly fsyncIntervalMs = 1000,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'a');
    if (fs.fstatSync(this.fd).size === 0) {
      fs.writeSync(this.fd, HEADER);
      fs.fdatasyncSync(this.fd);
    }
    if (policy === 'interval') {
      this.timer = setInterval(() => this.backgroundSync(), fsyncIntervalMs);
      this.timer.unref();
    }
  }

  /** Reads every record. Call before appending; truncates a torn tail so appends start clean. */
  load(): JournalLoadResult {
    const text = fs.readFileSync(this.file, 'latin1');
    const records: JournalRecord[] = [];
    let badLines = 0;
    let start = 0;
    let tornBytes = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) {
        tornBytes = text.length - start;
        break;
      }
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line.length === 0 || line.startsWith('{"kiln"')) continue;
      const r = parseRecord(line);
      if (r) records.push(r);
      else badLines++;
    }
    if (tornBytes > 0) fs.ftruncateSync(this.fd, text.length - tornBytes);
    this.records = records.length;
    return { records, badLines, tornBytes };
  }

  append(r: JournalRecord): void {
    this.pending.push(serialize(r));
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /**
   * Writes everything appended so far (one write(2)); with policy 'always' also fdatasyncs.
   * Throws if the write fails; the records stay pending.
   */
  flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    const data = this.pending.length === 1 ? this.pending[0] : this.pending.join('');
    // Records leave `pending` only once written: after a failed write (disk full, I/O error) the
    // next flush retries them. A partly written line is skipped as a bad line on load.
    writeAll(this.fd, data);
    this.records += this.pending.length;
    this.pending = [];
    this.writes++;
    if (this.policy === 'always') {
      fs.fdatasyncSync(this.fd);
      this.syncs++;
    } else {
      this.dirty = true;
    }
  }

  private backgroundSync(): void {
    if (!this.dirty || this.syncing || this.closed) return;
    this.dirty = false;
    this.syncing = true;
    const fd = this.fd;
    fs.fdatasync(fd, (err) => {
      this.syncing = false;
      this.syncs++;
      if (err && !this.closed) this.onError(err);
    });
  }

  /**
   * Replaces the journal with `records` (the live state) plus anything still pending. Synchronous:
   * O(live leases), a few tens of ms for 65k leases, run rarely (when the journal has grown to
   * several times the live state).
   */
  compact(records: Iterable<JournalRecord>): void {
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    let count = 0;
    try {
      let chunk = HEADER;
      for (const r of records) {
        chunk += serialize(r);
        count++;
        if (chunk.length > 1 << 20) {
          writeAll(fd, chunk);
          chunk = '';
        }
      }
      for (const line of this.pending) chunk += line;
      count += this.pending.length;
      this.pending = [];
      writeAll(fd, chunk);
      fs.fdatasyncSync(fd);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    fs.renameSync(tmp, this.file);
    syncDir(path.dirname(this.file));
    const old = this.fd;
    this.fd = fd;
    // `fd` was opened with 'w' at offset = its length, so further appends continue at the end.
    fs.closeSync(old);
    this.records = count;
    this.dirty = false;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    if (this.timer) clearInterval(this.timer);
    fs.fdatasyncSync(this.fd);
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

function writeAll(fd: number, data: string): void {
  const buf = Buffer.from(data, 'latin1');
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Strings in records are latin1-safe JSON (hostnames come off the wire as latin1). */
function serialize(r: JournalRecord): string {
  return JSON.stringify(r) + '\n';
}

function parseRecord(line: string): JournalRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  if ((r.t !== 'b' && r.t !== 'r' && r.t !== 'd') || typeof r.s !== 'string' || typeof r.ip !== 'string') return undefined;
  if (typeof r.m !== 'string' || typeof r.e !== 'number' || !Number.isFinite(r.e)) return undefined;
  if (r.c !== undefined && typeof r.c !== 'string') return undefined;
  if (r.h !== undefined && typeof r.h !== 'string') return undefined;
  return r as unknown as JournalRecord;
}
