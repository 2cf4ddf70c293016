// The Range header of a GET (RFC 9110 14.1-14.2), for one resource of known size. Only single
// ranges are served as 206; a request for several ranges gets the whole resource (200), which
// RFC 9110 allows, and so does a header we cannot parse.

export type ByteRange =
  /** No Range header, or one to ignore: send the whole resource. */
  | { kind: 'whole'; ignored?: 'syntax' | 'multiple' | 'unit' }
  /** Send bytes start..end inclusive with 206. */
  | { kind: 'partial'; start: number; end: number }
  /** 416, with Content-Range: bytes * / size. */
  | { kind: 'unsatisfiable' };

const SPEC = /^(\d*)-(\d*)$/;

export function parseByteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return { kind: 'whole' };
  const eq = header.indexOf('=');
  if (eq < 0) return { kind: 'whole', ignored: 'syntax' };
  if (header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'whole', ignored: 'unit' };
  const specs = header
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length === 0) return { kind: 'whole', ignored: 'syntax' };
  const parsed: Array<{ start: number; end: number } | null> = [];
  for (const spec of specs) {
    const m = SPEC.exec(spec);
    if (!m || (m[1] === '' && m[2] === '')) return { kind: 'whole', ignored: 'syntax' };
    if (m[1] === '') {
      // Suffix: the last N bytes.
      const n = Number(m[2]);
      if (!Number.isSafeInteger(n)) return { kind: 'whole', ignored: 'syntax' };
      parsed.push(n === 0 || size === 0 ? null : { start: Math.max(0, size - n), end: size - 1 });
      continue;
    }
    const start = Number(m[1]);
    const last = m[2] === '' ? Number.MAX_SAFE_INTEGER : Number(m[2]);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(last) || last < start) return { kind: 'whole', ignored: 'syntax' };
    parsed.push(start >= size ? null : { start, end: Math.min(last, size - 1) });
  }
  const ok = parsed.filter((r): r is { start: number; end: number } => r !== null);
  if (ok.length === 0) return { kind: 'unsatisfiable' };
  if (specs.length > 1) return { kind: 'whole', ignored: 'multiple' };
  return { kind: 'partial', start: ok[0].start, end: ok[0].end };
}
