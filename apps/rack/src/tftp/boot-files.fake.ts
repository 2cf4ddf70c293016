// In-memory BootFileSource for tests and benchmarks: exact paths or patterns map to content, or
// to a function of the request (so a test can render per MAC). Every request is recorded.
import { BootFileRequest, BootFileSource, RenderedBootFile } from './boot-files.port';

export type FakeRender = string | Buffer | ((request: BootFileRequest) => string | Buffer | RenderedBootFile | null);

export class InMemoryBootFiles implements BootFileSource {
  readonly requests: BootFileRequest[] = [];
  private readonly exact = new Map<string, FakeRender>();
  private readonly patterns: Array<[RegExp, FakeRender]> = [];
  /** When set, render() rejects with it (the region is unreachable and nothing is cached). */
  failWith: Error | undefined;

  set(path: string, render: FakeRender): this {
    this.exact.set(path, render);
    return this;
  }

  match(pattern: RegExp, render: FakeRender): this {
    this.patterns.push([pattern, render]);
    return this;
  }

  async render(request: BootFileRequest): Promise<RenderedBootFile | null> {
    this.requests.push(request);
    if (this.failWith) throw this.failWith;
    let r = this.exact.get(request.path);
    if (r === undefined) r = this.patterns.find(([p]) => p.test(request.path))?.[1];
    if (r === undefined) return null;
    const out = typeof r === 'function' ? r(request) : r;
    if (out === null) return null;
    if (typeof out === 'string') return { content: Buffer.from(out, 'utf8'), mac: request.mac };
    if (Buffer.isBuffer(out)) return { content: out, mac: request.mac };
    return out;
  }
}
