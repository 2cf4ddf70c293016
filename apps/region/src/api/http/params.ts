/**
 * Request parameters as MAAS handlers see them: ordered, multi-valued string
 * parameters (Django's QueryDict) plus uploaded files (request.FILES).
 */

export interface UploadedFile {
  filename: string;
  contentType: string;
  data: Buffer;
}

export class RequestParams {
  /** Uploaded files by field name; the first upload of a field wins (like `get`). */
  readonly files = new Map<string, UploadedFile>();

  // Map keeps insertion order, so names() is in first-seen order.
  private readonly values = new Map<string, string[]>();

  /** Build from `[name, value]` pairs or an object (array values become repeated values). */
  static from(
    source: Iterable<readonly [string, string]> | Readonly<Record<string, string | readonly string[]>>,
  ): RequestParams {
    const params = new RequestParams();
    if (isIterable(source)) {
      for (const [name, value] of source) params.append(name, value);
    } else {
      for (const name of Object.keys(source)) {
        const value = source[name];
        if (typeof value === 'string') params.append(name, value);
        else for (const v of value) params.append(name, v);
      }
    }
    return params;
  }

  /**
   * Combine query-string and body parameters into a new object: for each
   * name, the query's values come before the body's (so `get` prefers the
   * query, as MAAS does for `op`). Files are taken from both, query first.
   */
  static merge(query: RequestParams, body: RequestParams): RequestParams {
    const merged = new RequestParams();
    for (const source of [query, body]) {
      for (const [name, values] of source.values) {
        for (const value of values) merged.append(name, value);
      }
      for (const [name, file] of source.files) merged.addFile(name, file);
    }
    return merged;
  }

  /** Append a value to `name` (after any existing values). */
  append(name: string, value: string): void {
    const list = this.values.get(name);
    if (list === undefined) this.values.set(name, [value]);
    else list.push(value);
  }

  /** Record an uploaded file unless one is already stored under `name`. */
  addFile(name: string, file: UploadedFile): void {
    if (!this.files.has(name)) this.files.set(name, file);
  }

  /** First value of `name`, or undefined. */
  get(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  /** All values of `name` in order (a fresh array; empty when absent). */
  getAll(name: string): string[] {
    const list = this.values.get(name);
    return list === undefined ? [] : [...list];
  }

  /** Whether `name` has at least one (string) value. Files are checked with `files.has`. */
  has(name: string): boolean {
    return this.values.has(name);
  }

  /** Parameter names in first-seen order (files not included). */
  names(): string[] {
    return [...this.values.keys()];
  }

  /** `[name, values]` pairs in first-seen order (fresh arrays). */
  entries(): Array<[string, string[]]> {
    return [...this.values].map(([name, values]) => [name, [...values]]);
  }

  /** Number of distinct parameter names. */
  get size(): number {
    return this.values.size;
  }

  /** Plain-object view (`name -> values`), without prototype. */
  toObject(): Record<string, string[]> {
    const result = Object.create(null) as Record<string, string[]>;
    for (const [name, values] of this.values) result[name] = [...values];
    return result;
  }
}

function isIterable(value: unknown): value is Iterable<readonly [string, string]> {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

/** MAAS boolean parameters (see common/maas-bool.ts, where services read them too). */
export { parseBool } from '../../common/maas-bool';
