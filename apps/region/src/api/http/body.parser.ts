/**
 * Request parameter parsing for the MAAS-compatible API: query strings and
 * request bodies (urlencoded, multipart/form-data, JSON) into RequestParams.
 *
 * Written for what MAAS clients really send (see maas-api.md 2.3): the maas
 * CLI and python-libmaas base64-transfer-encode every multipart part and
 * quote the boundary, python-libmaas sends an empty multipart body when it
 * has no parameters, maas-run-remote-scripts hand-builds 8-bit multipart
 * bodies with file parts, Go clients send urlencoded forms.
 *
 * Pure and framework-free: input is a string or Buffer, output RequestParams
 * or an HttpError subclass thrown (never any other exception type).
 *
 * Why not busboy (1.6, what Express's multer uses), demonstrated by
 * body.parser.busboy.spec.ts: a shim over busboy could decode the transfer
 * encodings, answer python-libmaas's empty body (busboy: "Unexpected end of
 * form"), turn filename-less application/octet-stream "files" back into the
 * bytes parameters the maas CLI sends, and raise its 1 MiB field limit. What
 * no shim over busboy's events can restore: it fails an LF-only body, returns
 * no parameters at all when a delimiter line carries transport padding, and
 * cuts a value short at a longer line that merely starts with the boundary,
 * all silently but the first. Restoring those means finding the delimiters
 * itself, which is the parser below. (A part without Content-Disposition is a
 * 400 here; Django, so MAAS, and busboy skip it.)
 */
import { BadRequestError, PayloadTooLargeError } from './http.errors';
import { RequestParams } from './params';

/** Default maximum request body size: 64 MiB. */
export const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const DASH = 0x2d;
const EQ = 0x3d;

// ---------------------------------------------------------------------------
// Text helpers

function hexValue(code: number | undefined): number {
  if (code === undefined) return -1;
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

function normalizeCharset(charset: string | undefined): string {
  return charset === undefined || charset === '' ? 'utf-8' : charset.trim().toLowerCase();
}

function isUtf8Charset(charset: string): boolean {
  return charset === 'utf-8' || charset === 'utf8';
}

const LATIN1_CHARSETS = new Set(['iso-8859-1', 'latin1', 'latin-1', 'l1', 'iso8859-1', 'us-ascii', 'ascii']);

/** Decode bytes in `charset` (lower-case); unknown charsets fall back to UTF-8. Never throws. */
function decodeBytes(bytes: Buffer, charset: string): string {
  if (isUtf8Charset(charset)) return bytes.toString('utf8');
  if (LATIN1_CHARSETS.has(charset)) return bytes.toString('latin1');
  try {
    return new TextDecoder(charset, { ignoreBOM: true }).decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/**
 * Percent-decode `s` to bytes. Characters outside escapes are encoded with
 * `raw` ('utf8' for JS strings that hold text, 'latin1' for strings that hold
 * bytes). Returns null for a malformed escape (`%` not followed by two hex digits).
 */
function percentDecodeBytes(s: string, raw: 'utf8' | 'latin1'): Buffer | null {
  let pct = s.indexOf('%');
  const out = Buffer.allocUnsafe(Buffer.byteLength(s, raw));
  let n = 0;
  let last = 0;
  while (pct !== -1) {
    const hi = hexValue(s.charCodeAt(pct + 1));
    const lo = hexValue(s.charCodeAt(pct + 2));
    if (hi < 0 || lo < 0) return null;
    if (pct > last) n += out.write(s.slice(last, pct), n, raw);
    out[n++] = (hi << 4) | lo;
    last = pct + 3;
    pct = s.indexOf('%', last);
  }
  if (last < s.length) n += out.write(s.slice(last), n, raw);
  return out.subarray(0, n);
}

const NON_ASCII = /[^\x00-\x7f]/;
const PLUS = /\+/g;

function truncate(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

/** Decode one application/x-www-form-urlencoded component (`+` is space). */
function decodeFormComponent(s: string, raw: 'utf8' | 'latin1', charset: string): string {
  const text = s.includes('+') ? s.replace(PLUS, ' ') : s;
  if (text.indexOf('%') === -1 && isUtf8Charset(charset) && (raw === 'utf8' || !NON_ASCII.test(text))) {
    return text;
  }
  const bytes = percentDecodeBytes(text, raw);
  if (bytes === null) {
    throw new BadRequestError(`Invalid percent-encoding in request parameters: ${truncate(s)}`);
  }
  return decodeBytes(bytes, charset);
}

function addUrlEncoded(params: RequestParams, text: string, raw: 'utf8' | 'latin1', charset: string): void {
  const length = text.length;
  let start = 0;
  while (start < length) {
    let end = text.indexOf('&', start);
    if (end === -1) end = length;
    if (end > start) {
      const pair = text.slice(start, end);
      const eq = pair.indexOf('=');
      const name = decodeFormComponent(eq === -1 ? pair : pair.slice(0, eq), raw, charset);
      const value = eq === -1 ? '' : decodeFormComponent(pair.slice(eq + 1), raw, charset);
      params.append(name, value);
    }
    start = end + 1;
  }
}

/**
 * Parse a URL query string (with or without the leading `?`). Repeated keys
 * become lists, `+` is a space, escapes are percent-decoded as UTF-8 (invalid
 * UTF-8 becomes U+FFFD); a key without `=` has the value ''. A malformed
 * escape (`%zz`, trailing `%`) is a BadRequestError.
 */
export function parseQueryString(qs: string): RequestParams {
  const params = new RequestParams();
  addUrlEncoded(params, qs.startsWith('?') ? qs.slice(1) : qs, 'utf8', 'utf-8');
  return params;
}

// ---------------------------------------------------------------------------
// Header values with parameters (Content-Type, Content-Disposition)

export interface ParsedHeaderValue {
  /** The value before the first `;`, trimmed and lower-cased (e.g. `multipart/form-data`). */
  value: string;
  /** Parameters by lower-cased name; quoted strings unquoted, RFC 2231 (`name*=utf-8''...`) decoded. */
  params: Map<string, string>;
}

interface ExtendedPiece {
  index: number;
  value: string;
  extended: boolean;
}

/** Decode an RFC 2231 extended value `charset'language'percent-encoded`. */
function decodeExtendedValue(value: string): string {
  const first = value.indexOf("'");
  const second = first === -1 ? -1 : value.indexOf("'", first + 1);
  if (second === -1) {
    const bytes = percentDecodeBytes(value, 'utf8');
    return bytes === null ? value : bytes.toString('utf8');
  }
  const charset = normalizeCharset(value.slice(0, first));
  const bytes = percentDecodeBytes(value.slice(second + 1), 'utf8');
  return bytes === null ? value.slice(second + 1) : decodeBytes(bytes, charset);
}

const DIGITS = /^\d+$/;

/** Split an RFC 2231 parameter name: `name*` (extended), `name*0` / `name*0*` (continuations). */
function splitParamName(name: string): { base: string; index?: number; extended: boolean } {
  const extended = name.endsWith('*');
  const bare = extended ? name.slice(0, -1) : name;
  const star = bare.lastIndexOf('*');
  if (star > 0) {
    const digits = bare.slice(star + 1);
    if (DIGITS.test(digits)) return { base: bare.slice(0, star), index: Number(digits), extended };
  }
  return { base: bare, extended };
}

/**
 * Parse `type; a=b; c="quoted \"x\""` header values. Lenient: parameters
 * without `=` get '', unterminated quotes run to the end, first occurrence of
 * a name wins, except that RFC 2231 extended forms (`name*`, `name*0*`, ...)
 * override the plain form.
 */
export function parseHeaderValue(header: string): ParsedHeaderValue {
  const params = new Map<string, string>();
  const extended = new Map<string, string>();
  const continuations = new Map<string, ExtendedPiece[]>();
  const length = header.length;
  let i = header.indexOf(';');
  const value = (i === -1 ? header : header.slice(0, i)).trim().toLowerCase();
  if (i === -1) return { value, params };

  while (i < length) {
    // Skip separators and whitespace.
    while (i < length && (header[i] === ';' || header[i] === ' ' || header[i] === '\t')) i++;
    if (i >= length) break;
    let nameEnd = i;
    while (nameEnd < length && header[nameEnd] !== '=' && header[nameEnd] !== ';') nameEnd++;
    const name = header.slice(i, nameEnd).trim().toLowerCase();
    let paramValue = '';
    i = nameEnd;
    if (i < length && header[i] === '=') {
      i++;
      while (i < length && (header[i] === ' ' || header[i] === '\t')) i++;
      if (header[i] === '"') {
        i++;
        let out = '';
        let runStart = i;
        while (i < length && header[i] !== '"') {
          if (header[i] === '\\' && (header[i + 1] === '"' || header[i + 1] === '\\')) {
            out += header.slice(runStart, i);
            runStart = i + 1;
            i += 2;
          } else {
            i++;
          }
        }
        out += header.slice(runStart, i);
        paramValue = out;
        i++; // closing quote
        while (i < length && header[i] !== ';') i++;
      } else {
        let end = header.indexOf(';', i);
        if (end === -1) end = length;
        paramValue = header.slice(i, end).trim();
        i = end;
      }
    }
    if (name === '') continue;
    const split = splitParamName(name);
    if (split.index !== undefined) {
      const pieces = continuations.get(split.base) ?? [];
      pieces.push({ index: split.index, value: paramValue, extended: split.extended });
      continuations.set(split.base, pieces);
    } else if (split.extended) {
      if (!extended.has(split.base)) extended.set(split.base, decodeExtendedValue(paramValue));
    } else if (!params.has(name)) {
      params.set(name, paramValue);
    }
  }

  for (const [base, pieces] of continuations) {
    pieces.sort((a, b) => a.index - b.index);
    const ordered: ExtendedPiece[] = [];
    for (const piece of pieces) {
      if (piece.index !== ordered.length) break; // gap or duplicate: stop
      ordered.push(piece);
    }
    if (ordered.length === 0) continue;
    let charset = 'utf-8';
    const buffers: Buffer[] = [];
    ordered.forEach((piece, index) => {
      let text = piece.value;
      if (piece.extended) {
        if (index === 0) {
          const first = text.indexOf("'");
          const second = first === -1 ? -1 : text.indexOf("'", first + 1);
          if (second !== -1) {
            charset = normalizeCharset(text.slice(0, first));
            text = text.slice(second + 1);
          }
        }
        buffers.push(percentDecodeBytes(text, 'utf8') ?? Buffer.from(text, 'utf8'));
      } else {
        buffers.push(Buffer.from(text, 'utf8'));
      }
    });
    extended.set(base, decodeBytes(Buffer.concat(buffers), charset));
  }
  for (const [name, decoded] of extended) params.set(name, decoded);
  return { value, params };
}

/** Parse a Content-Type header; undefined/blank gives null. */
export function parseContentType(header: string | undefined): ParsedHeaderValue | null {
  if (header === undefined || header.trim() === '') return null;
  return parseHeaderValue(header);
}

// ---------------------------------------------------------------------------
// Multipart

function isBlank(buf: Buffer, start = 0, end = buf.length): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b !== SP && b !== TAB && b !== CR && b !== LF) return false;
  }
  return true;
}

interface Delimiter {
  /** End of the preceding part's content (the line break before the delimiter is not content). */
  contentEnd: number;
  /** First byte after the delimiter line. */
  next: number;
  /** Whether this is the close delimiter (`--boundary--`). */
  close: boolean;
}

/**
 * Validate what follows `--boundary` at `after`: `--` (close delimiter) or
 * optional transport padding then CRLF/LF. Returns null when this occurrence
 * is not a delimiter (e.g. the boundary is a prefix of longer text).
 */
function delimiterLineEnd(body: Buffer, after: number): { next: number; close: boolean } | null {
  if (body[after] === DASH && body[after + 1] === DASH) return { next: after + 2, close: true };
  let j = after;
  while (body[j] === SP || body[j] === TAB) j++;
  if (body[j] === LF) return { next: j + 1, close: false };
  if (body[j] === CR && body[j + 1] === LF) return { next: j + 2, close: false };
  return null;
}

/** Next delimiter whose line starts after the LF at or after `from`. */
function nextDelimiter(body: Buffer, lfDelimiter: Buffer, from: number): Delimiter | null {
  let i = body.indexOf(lfDelimiter, from);
  while (i !== -1) {
    const line = delimiterLineEnd(body, i + lfDelimiter.length);
    if (line !== null) {
      return { contentEnd: i > 0 && body[i - 1] === CR ? i - 1 : i, next: line.next, close: line.close };
    }
    i = body.indexOf(lfDelimiter, i + 1);
  }
  return null;
}

interface PartHeaders {
  headers: Map<string, string>;
  bodyStart: number;
}

/** Split a part into its headers (lower-cased names, unfolded, first wins) and the start of its body. */
function parsePartHeaders(part: Buffer): PartHeaders {
  let headerEnd = part.length;
  let bodyStart = part.length;
  if (part[0] === LF) {
    headerEnd = 0;
    bodyStart = 1;
  } else if (part[0] === CR && part[1] === LF) {
    headerEnd = 0;
    bodyStart = 2;
  } else {
    let nl = part.indexOf(LF);
    while (nl !== -1) {
      if (part[nl + 1] === LF) {
        headerEnd = nl;
        bodyStart = nl + 2;
        break;
      }
      if (part[nl + 1] === CR && part[nl + 2] === LF) {
        headerEnd = nl;
        bodyStart = nl + 3;
        break;
      }
      nl = part.indexOf(LF, nl + 1);
    }
  }
  const headers = new Map<string, string>();
  if (headerEnd === 0) return { headers, bodyStart };
  const lines = part.toString('utf8', 0, headerEnd).split(/\r?\n/);
  const unfolded: string[] = [];
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && unfolded.length > 0) {
      unfolded[unfolded.length - 1] += line;
    } else {
      unfolded.push(line);
    }
  }
  for (const line of unfolded) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, bodyStart };
}

/** Quoted-printable decoding (RFC 2045 6.7); invalid `=` sequences are kept literally. */
function decodeQuotedPrintable(buf: Buffer): Buffer {
  let eq = buf.indexOf(EQ);
  if (eq === -1) return buf;
  const out = Buffer.allocUnsafe(buf.length);
  let n = 0;
  let last = 0;
  while (eq !== -1) {
    n += buf.copy(out, n, last, eq);
    const hi = hexValue(buf[eq + 1]);
    const lo = hexValue(buf[eq + 2]);
    if (hi >= 0 && lo >= 0) {
      out[n++] = (hi << 4) | lo;
      last = eq + 3;
    } else {
      // Soft line break: "=" then optional whitespace then CRLF/LF (or end of data).
      let j = eq + 1;
      while (buf[j] === SP || buf[j] === TAB) j++;
      if (j >= buf.length) last = buf.length;
      else if (buf[j] === LF) last = j + 1;
      else if (buf[j] === CR && buf[j + 1] === LF) last = j + 2;
      else {
        out[n++] = EQ;
        last = eq + 1;
      }
    }
    eq = last < buf.length ? buf.indexOf(EQ, last) : -1;
  }
  if (last < buf.length) n += buf.copy(out, n, last);
  return out.subarray(0, n);
}

const BASE64_JUNK = /[^A-Za-z0-9+/\-_=]+/g;
const BASE64_WINDOW = 64 * 1024;

/**
 * Lenient base64 (RFC 2045 6.8): characters outside the alphabet (line
 * breaks, spaces) are skipped and decoding stops at the first `=`. Decodes in
 * 64 KiB windows, so a 10 MB upload never becomes one 13 MB string.
 */
function decodeBase64(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil(data.length / 4) * 3);
  let n = 0;
  let carry = '';
  for (let start = 0; start < data.length; start += BASE64_WINDOW) {
    const text = carry + data.toString('latin1', start, Math.min(start + BASE64_WINDOW, data.length)).replace(BASE64_JUNK, '');
    const pad = text.indexOf('=');
    if (pad !== -1) {
      carry = text.slice(0, pad);
      break;
    }
    // Only whole 4-character groups decode independently; keep the rest for the next window.
    const usable = text.length - (text.length % 4);
    if (usable > 0) n += out.write(usable === text.length ? text : text.slice(0, usable), n, 'base64');
    carry = text.slice(usable);
  }
  if (carry !== '') n += out.write(carry, n, 'base64');
  return out.subarray(0, n);
}

function decodeTransfer(data: Buffer, encoding: string | undefined): Buffer {
  const kind = encoding === undefined ? '' : encoding.trim().toLowerCase();
  switch (kind) {
    case '':
    case '7bit':
    case '8bit':
    case 'binary':
      return data;
    case 'base64':
      return decodeBase64(data);
    case 'quoted-printable':
      return decodeQuotedPrintable(data);
    default:
      throw new BadRequestError(`Unsupported Content-Transfer-Encoding in multipart part: ${truncate(kind)}`);
  }
}

function addPart(params: RequestParams, part: Buffer): void {
  if (isBlank(part)) return; // e.g. python-libmaas' empty body "--B\r\n\r\n--B--"
  const { headers, bodyStart } = parsePartHeaders(part);
  const disposition = headers.get('content-disposition');
  const dispositionParams = disposition === undefined ? undefined : parseHeaderValue(disposition).params;
  const name = dispositionParams?.get('name');
  if (dispositionParams === undefined || name === undefined) {
    throw new BadRequestError('Malformed multipart body: part without a Content-Disposition name.');
  }
  const data = decodeTransfer(part.subarray(bodyStart), headers.get('content-transfer-encoding'));
  const contentType = headers.get('content-type');
  const filename = dispositionParams.get('filename');
  if (filename !== undefined) {
    // Like Django, a file field with an empty filename (an empty <input type=file>) is dropped.
    if (filename === '') return;
    params.addFile(name, { filename, contentType: contentType || 'application/octet-stream', data });
    return;
  }
  const charset = normalizeCharset(contentType === undefined ? undefined : parseHeaderValue(contentType).params.get('charset'));
  params.append(name, decodeBytes(data, charset));
}

function parseMultipart(params: RequestParams, body: Buffer, boundary: string | undefined): void {
  if (boundary === undefined || boundary === '') {
    throw new BadRequestError('Invalid boundary in multipart: None');
  }
  const delimiter = Buffer.from(`--${boundary}`, 'utf8');
  const lfDelimiter = Buffer.from(`\n--${boundary}`, 'utf8');

  // Opening delimiter: at the very start, or at the start of a line after a preamble.
  let current: Delimiter | null = null;
  if (body.length >= delimiter.length && body.subarray(0, delimiter.length).equals(delimiter)) {
    const line = delimiterLineEnd(body, delimiter.length);
    if (line !== null) current = { contentEnd: 0, next: line.next, close: line.close };
  }
  current ??= nextDelimiter(body, lfDelimiter, 0);
  if (current === null) {
    if (isBlank(body)) return;
    throw new BadRequestError('Malformed multipart body: opening boundary not found.');
  }

  while (!current.close) {
    const partStart: number = current.next;
    // Search from the LF that ended the delimiter line, so a delimiter right
    // after it (an empty part) is found too.
    const end: Delimiter | null = nextDelimiter(body, lfDelimiter, partStart - 1);
    if (end === null) throw new BadRequestError('Malformed multipart body: missing closing boundary.');
    addPart(params, body.subarray(partStart, Math.max(partStart, end.contentEnd)));
    current = end;
  }
  // Anything after the close delimiter is the epilogue: ignored.
}

// ---------------------------------------------------------------------------
// JSON

function jsonScalar(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    // Only a stack overflow on absurdly deep nesting can get here.
    throw new BadRequestError('JSON body is nested too deeply.');
  }
}

function parseJson(params: RequestParams, body: Buffer): void {
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BadRequestError(`Invalid JSON body: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadRequestError('JSON body must be an object.');
  }
  const record = parsed as Record<string, unknown>;
  for (const name of Object.keys(record)) {
    const value = record[name];
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      const text = jsonScalar(item);
      if (text !== undefined) params.append(name, text);
    }
  }
}

// ---------------------------------------------------------------------------
// Entry points

/**
 * Parse a request body into parameters (and uploaded files).
 *
 * - empty body (any or no content type) -> no parameters;
 * - `application/x-www-form-urlencoded` (optional charset, default UTF-8);
 * - `multipart/form-data` (quoted or unquoted boundary; per-part base64,
 *   quoted-printable, 7bit/8bit/binary transfer encodings; CRLF or LF line
 *   endings; parts with `filename=` go to `files` only; empty multipart
 *   bodies allowed; preamble/epilogue ignored). File data may share memory
 *   with `body` (7bit/8bit/binary parts are views, not copies);
 * - `application/json` objects: strings, numbers, booleans become strings,
 *   arrays become repeated values, null is skipped, nested objects become
 *   their JSON text;
 * - anything else with a non-empty body -> BadRequestError.
 *
 * Throws PayloadTooLargeError (413) when `body` is longer than `limit` bytes,
 * BadRequestError (400) for malformed bodies; never any other exception.
 */
export function parseBody(contentType: string | undefined, body: Buffer, limit: number = DEFAULT_BODY_LIMIT): RequestParams {
  if (body.length > limit) throw new PayloadTooLargeError(limit);
  const params = new RequestParams();
  if (body.length === 0) return params;
  const type = parseContentType(contentType);
  if (type === null) throw new BadRequestError('Missing Content-Type for a request body.');
  switch (type.value) {
    case 'application/x-www-form-urlencoded':
      addUrlEncoded(params, body.toString('latin1'), 'latin1', normalizeCharset(type.params.get('charset')));
      return params;
    case 'multipart/form-data':
      parseMultipart(params, body, type.params.get('boundary'));
      return params;
    case 'application/json':
      parseJson(params, body);
      return params;
    default:
      throw new BadRequestError(`Unsupported Content-Type: ${truncate(type.value)}`);
  }
}

/**
 * Collect a request body stream (e.g. a Node IncomingMessage) into a Buffer,
 * failing with PayloadTooLargeError as soon as it exceeds `limit` (or up
 * front when the declared Content-Length already does).
 */
export async function readBody(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  limit: number = DEFAULT_BODY_LIMIT,
  declaredLength?: number,
): Promise<Buffer> {
  if (declaredLength !== undefined && declaredLength > limit) throw new PayloadTooLargeError(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    total += buf.length;
    if (total > limit) throw new PayloadTooLargeError(limit);
    chunks.push(buf);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}
