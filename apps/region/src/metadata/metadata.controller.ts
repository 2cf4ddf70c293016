import { randomUUID } from 'node:crypto';
import { All, Controller, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { writeTar } from '@kiln/scripts';
import { ANONYMOUS_BODY_LIMIT, AUTHENTICATED_BODY_LIMIT } from '../api/api.dispatcher';
import { discardRest, readRequestBody } from '../api/api.controller';
import { NodeTokenAuthenticator } from '../api/auth/node-token.authenticator';
import { parseBody, parseQueryString } from '../api/http/body.parser';
import { domainErrorToHttp } from '../api/http/domain-error.mapper';
import { BadRequestError, HttpError, NotFoundError, UnauthorizedError } from '../api/http/http.errors';
import { formatHttpDate } from '../api/http/maas-time';
import type { RequestParams } from '../api/http/params';
import { DomainError } from '../common/domain.error';
import { log, withLogContext } from '../logging/logger';
import { MetadataSignalService, type SignalInput } from './metadata-signal.service';
import { MetadataStatusService } from './metadata-status.service';
import { MetadataService } from './metadata.service';
import type { NodeCaller } from './node-caller';

export const METADATA_PREFIX = '/MAAS/metadata';
export const METADATA_VERSIONS = ['2012-03-01', 'latest'];

interface Answer {
  status: number;
  body: string | Buffer;
  contentType?: string;
}

const TEXT = 'text/plain; charset=utf-8';
const text = (body: string, status = 200): Answer => ({ status, body, contentType: TEXT });

/** What one request is, once read: its path below /MAAS/metadata/, method, params and caller. */
interface MetadataRequest {
  method: string;
  segments: string[];
  query: RequestParams;
  node: NodeCaller | null;
  origin: string;
  /** Reads the body (once the caller is known, with the limit that applies to it). */
  body: () => Promise<Buffer>;
  contentType: string | undefined;
  /** Asked through /MAAS/metadata/curtin/ (the installer's datasource), not the plain path. */
  curtin?: boolean;
}

/**
 * The metadata API (reference maas-api.md §4), the HTTP edge: machines in the ephemeral
 * environment and cloud-init talk to it with node tokens (never users' API keys); unknown
 * machines talk to its anonymous enlistment variants. Its own controller rather than the REST
 * dispatcher: its paths, versions, answers and callers are not the REST API's.
 */
@Controller('MAAS')
export class MetadataController {
  constructor(
    @Inject(NodeTokenAuthenticator) private readonly auth: NodeTokenAuthenticator,
    @Inject(MetadataService) private readonly metadata: MetadataService,
    @Inject(MetadataSignalService) private readonly signals: MetadataSignalService,
    @Inject(MetadataStatusService) private readonly status: MetadataStatusService,
  ) {}

  @All(['metadata', 'metadata/*'])
  async serve(@Req() req: Request, @Res() res: Response): Promise<void> {
    await withLogContext({ requestId: randomUUID(), method: req.method, path: req.path }, async () => {
      const url = req.originalUrl;
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const query = q < 0 ? '' : url.slice(q + 1);
      // A machine reaches the metadata API through its rack's proxy, which names the address the
      // machine used (X-Forwarded-Host): preseeds and user-data must send it back there, not to
      // the region's own address, which the machine may not reach.
      const forwarded = req.headers['x-forwarded-host'];
      const host = (typeof forwarded === 'string' && forwarded.split(',')[0].trim()) || req.headers.host || 'localhost';
      const origin = `${typeof forwarded === 'string' && forwarded ? 'http' : req.protocol}://${host}`;
      let answer: Answer;
      try {
        // The origin goes into preseeds and user-data: only a plain host[:port] may.
        if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) {
          throw new BadRequestError('Bad Host header.');
        }
        const contentType = req.headers['content-type'];
        let bytes: Buffer | null = null;
        let limit = ANONYMOUS_BODY_LIMIT;
        const read = async () => (bytes ??= await readRequestBody(req, limit));
        const isForm = (contentType ?? '').split(';')[0].trim().toLowerCase() === 'application/x-www-form-urlencoded';
        const node = await this.auth.authenticate(req.headers.authorization, {
          method: req.method,
          origin,
          path,
          query,
          contentType,
          body: () => (isForm && req.method !== 'GET' ? ((limit = AUTHENTICATED_BODY_LIMIT), read()) : Promise.resolve(Buffer.alloc(0))),
        });
        if (node) limit = AUTHENTICATED_BODY_LIMIT;
        // Extra slashes are tolerated (cloud-init sometimes sends `//`).
        const rest = path.slice(METADATA_PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);
        answer = await this.route({ method: req.method.toUpperCase(), segments: rest, query: parseQueryString(query), node, origin, body: read, contentType });
      } catch (e) {
        answer = errorAnswer(e);
      }
      if (!req.complete) {
        res.setHeader('connection', 'close');
        discardRest(req);
      }
      res.status(answer.status);
      res.setHeader('date', formatHttpDate(new Date()));
      if (answer.contentType) res.setHeader('content-type', answer.contentType);
      if (req.method === 'HEAD') res.end();
      else res.end(answer.body);
      log().info({ status: answer.status }, 'metadata request');
    });
  }

  private async route(r: MetadataRequest): Promise<Answer> {
    const [first, ...rest] = r.segments;
    if (first === undefined) return text(METADATA_VERSIONS.join('\n'));
    if (first === 'status' && rest.length === 1) return this.statusWebhook(r, rest[0]);
    if (first === 'enlist') {
      if (!rest.length) return text(METADATA_VERSIONS.join('\n'));
      return this.versioned({ ...r, node: null, segments: rest });
    }
    if (first === 'curtin') {
      if (!rest.length) return text(METADATA_VERSIONS.join('\n'));
      return this.versioned({ ...r, segments: rest, curtin: true });
    }
    return this.versioned(r);
  }

  private async versioned(r: MetadataRequest): Promise<Answer> {
    const [version, what, ...rest] = r.segments;
    if (!METADATA_VERSIONS.includes(version)) return text(`Unknown metadata version: ${version}`, 404);
    const op = r.query.get('op');
    if (what === undefined) {
      if (r.method === 'POST') return this.versionPost(r);
      return text(await this.metadata.versionIndex(r.node));
    }
    this.onlyGet(r, what);
    switch (what) {
      case 'meta-data':
        if (!rest.length) return text(await this.metadata.metaDataIndex(r.node));
        if (rest.length === 1) {
          const c = await this.metadata.metaDataItem(r.node, rest[0]);
          return { status: 200, body: c.body ?? '', contentType: c.contentType };
        }
        break;
      case 'user-data': {
        if (rest.length) break;
        const c = await this.metadata.userData(r.node, r.origin, r.curtin === true);
        return { status: 200, body: c.body ?? '', contentType: c.contentType };
      }
      case 'maas-scripts': {
        if (rest.length) break;
        const tar = await this.metadata.scriptsTarball(r.node);
        return tar ? { status: 200, body: tar, contentType: 'application/x-tar' } : { status: 204, body: '' };
      }
      case 'maas-commissioning-scripts':
        if (rest.length) break;
        // Deprecated; kept answering for clients that walk the index (cloud-init's crawl).
        return { status: 200, body: writeTar([], 0), contentType: 'application/x-tar' };
      case 'by-id':
        if (rest.length !== 1) break;
        if (r.method === 'GET' && op === 'get_preseed') return text(await this.metadata.nodePreseed(rest[0], r.origin));
        if (r.method === 'POST' && (op === 'netboot_off' || op === 'netboot_on')) {
          await this.metadata.setNetbootBySystemId(rest[0], op === 'netboot_on');
          return text('OK');
        }
        return text(`Unrecognised signature: method=${r.method} op=${op ?? ''}`, 400);
      case 'enlist-preseed':
        if (rest.length) break;
        if (op === 'get_enlist_preseed') return text(this.metadata.enlistPreseed(r.origin));
        return text(`Unrecognised signature: method=${r.method} op=${op ?? ''}`, 400);
      default:
        break;
    }
    throw new NotFoundError(`Unknown metadata path: ${r.segments.join('/')}`);
  }

  /** Everything but the version's own POSTs and by-id's ops is read-only. */
  private onlyGet(r: MetadataRequest, what: string): void {
    if (r.method === 'GET' || r.method === 'HEAD') return;
    if (r.method === 'POST' && what === 'by-id') return;
    throw new HttpError(405, `Method ${r.method} is not allowed on this metadata path.`);
  }

  private async versionPost(r: MetadataRequest): Promise<Answer> {
    if (!r.node) throw new UnauthorizedError('Authorization Error: Anonymous access is not allowed for this request.');
    const params = parseBody(r.contentType, await r.body(), AUTHENTICATED_BODY_LIMIT);
    const op = r.query.get('op') ?? params.get('op');
    switch (op) {
      case 'signal':
        await this.signals.signal(r.node, signalInput(params));
        return text('OK');
      case 'netboot_off':
      case 'netboot_on':
        await this.metadata.setNetboot(r.node, op === 'netboot_on');
        return text('OK');
      default:
        throw new BadRequestError(`Unrecognised signature: method=POST op=${op ?? ''}`);
    }
  }

  private async statusWebhook(r: MetadataRequest, systemId: string): Promise<Answer> {
    if (r.method !== 'POST') throw new HttpError(405, 'Method not allowed: the status webhook takes POST.');
    if (!r.node) throw new UnauthorizedError('Authorization Error: Anonymous access is not allowed for this request.');
    const event = this.status.parse(await r.body());
    await this.status.report(r.node, systemId, event);
    return { status: 204, body: '' };
  }
}

function signalInput(p: RequestParams): SignalInput {
  return {
    status: p.get('status'),
    error: p.get('error'),
    scriptResultId: p.get('script_result_id'),
    name: p.get('name'),
    exitStatus: p.get('exit_status') ?? p.get('script_result') ?? p.get('result'),
    runtime: p.get('runtime'),
    scriptVersionId: p.get('script_version_id'),
    powerType: p.get('power_type'),
    powerParameters: p.get('power_parameters'),
    files: [...p.files].map(([name, f]) => ({ name, data: f.data })),
  };
}

function errorAnswer(e: unknown): Answer {
  const known = e instanceof HttpError ? e : e instanceof DomainError ? domainErrorToHttp(e) : e instanceof URIError ? new BadRequestError('Invalid percent-encoding in URL.') : null;
  if (known) return { status: known.status, body: known.renderBody(), contentType: known.contentType };
  log().error({ err: e }, 'unhandled error in metadata request');
  return text('Internal server error; the region log has the details.', 500);
}
