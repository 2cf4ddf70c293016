import { Controller, Get, Head, Inject, Injectable, NestMiddleware, Param, Req, Res } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { nkeys } from 'nats';
import {
  HEADER_RACK_ID,
  HEADER_RACK_SIGNATURE,
  HEADER_RACK_SIGNED_AT,
  RACK_DOWNLOAD_MAX_SKEW_MS,
  rackDownloadSigningString,
} from '@kiln/contracts';
import { ApiModule } from '../api/api.module';
import { OAuthAuthenticator } from '../api/auth/oauth.authenticator';
import { domainErrorToHttp } from '../api/http/domain-error.mapper';
import { HttpError } from '../api/http/http.errors';
import { formatHttpDate } from '../api/http/maas-time';
import { isDomainError } from '../common/domain.error';
import { log } from '../logging/logger';
import { BootResourcesRepository } from './boot-resources.repository';
import { BootResourcesService } from './boot-resources.service';

/** Where racks fetch stored files by sha256 (GetBootImages tells them). */
export const DOWNLOAD_PATH = '/MAAS/kiln/boot-resources/files/';

/** A byte range of a file of `size` bytes from `Range: bytes=a-b` (one range only); null: the whole file. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

function sendError(res: Response, e: unknown): void {
  const http = e instanceof HttpError ? e : isDomainError(e) ? domainErrorToHttp(e) : null;
  if (!http) {
    log().error({ err: e }, 'boot resource request failed');
    if (!res.headersSent) res.status(500).type('text/plain').send('Internal server error; the region log has the details.');
    else res.destroy();
    return;
  }
  if (res.headersSent) return void res.destroy();
  res.status(http.status).setHeader('content-type', http.contentType);
  for (const [k, v] of Object.entries(http.headers ?? {})) res.setHeader(k, v);
  res.send(http.renderBody());
}

/**
 * GET /MAAS/kiln/boot-resources/files/<sha256>: a stored file for a rack, with HTTP Range
 * (a rack resumes a cut download where its partial copy ends). Only enrolled racks may fetch:
 * the request carries the rack's id, the time, and an Ed25519 signature over method, path and
 * time made with the nkey the rack enrolled with (the one it connects to NATS with), checked
 * here against the key in rack_controllers. No secret is handed out for it, any region can
 * check it from Postgres alone, and a revoked rack (its key forgotten) is refused at once.
 */
@Controller('MAAS/kiln/boot-resources')
export class BootResourceFilesController {
  constructor(
    @Inject(BootResourcesService) private readonly resources: BootResourcesService,
    @Inject(BootResourcesRepository) private readonly repo: BootResourcesRepository,
  ) {}

  @Get('files/:sha256')
  @Head('files/:sha256')
  async download(@Param('sha256') sha256: string, @Req() req: Request, @Res() res: Response) {
    try {
      const rackId = await this.authenticateRack(req);
      const content = await this.resources.content(sha256);
      const range = parseRange(req.headers.range, content.size);
      res.setHeader('accept-ranges', 'bytes');
      res.setHeader('date', formatHttpDate(new Date()));
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('etag', `"${sha256}"`);
      if (range === 'unsatisfiable') {
        res.status(416).setHeader('content-range', `bytes */${content.size}`);
        return void res.end();
      }
      const { start, end } = range ?? { start: 0, end: content.size - 1 };
      if (range) res.status(206).setHeader('content-range', `bytes ${start}-${end}/${content.size}`);
      else res.status(200);
      res.setHeader('content-length', String(Math.max(0, end - start + 1)));
      log().info({ rackId, sha256, start, end, size: content.size }, 'boot resource file sent to a rack');
      if (req.method === 'HEAD' || content.size === 0) return void res.end();
      for await (const piece of this.resources.read(content.id, start, end)) {
        if (res.destroyed) return;
        if (!res.write(piece)) {
          await new Promise<void>((ok) => {
            const done = () => {
              res.off('drain', done);
              res.off('close', done);
              ok();
            };
            res.on('drain', done);
            res.on('close', done);
          });
        }
      }
      res.end();
    } catch (e) {
      sendError(res, e);
    }
  }

  private async authenticateRack(req: Request): Promise<string> {
    const refuse = (why: string) => {
      log().warn({ path: req.path, rack: req.headers[HEADER_RACK_ID], why }, 'boot resource download refused');
      return new HttpError(403, 'Only an enrolled rack may fetch boot resource files.');
    };
    const rackId = String(req.headers[HEADER_RACK_ID] ?? '');
    const signedAt = Number(req.headers[HEADER_RACK_SIGNED_AT]);
    const signature = String(req.headers[HEADER_RACK_SIGNATURE] ?? '');
    if (!rackId || !signature || !Number.isSafeInteger(signedAt)) throw refuse('unsigned');
    if (Math.abs(Date.now() - signedAt) > RACK_DOWNLOAD_MAX_SKEW_MS) throw refuse('stale');
    const nkey = await this.repo.rackNkey(rackId);
    if (!nkey) throw refuse('unknown or revoked rack');
    let ok = false;
    try {
      const path = req.originalUrl.split('?')[0];
      ok = nkeys.fromPublic(nkey).verify(Buffer.from(rackDownloadSigningString(req.method === 'HEAD' ? 'HEAD' : 'GET', path, signedAt)), Buffer.from(signature, 'base64url'));
    } catch {
      ok = false;
    }
    if (!ok) throw refuse('bad signature');
    return rackId;
  }
}

/** The module whose OAuth authenticator the upload middleware checks API keys with. */
export const UPLOAD_AUTH_MODULE = ApiModule;

const UPLOAD = /^\/MAAS\/api\/2\.0\/boot-resources\/(\d+)\/upload\/(\d+)\/?$/;

/**
 * PUT /MAAS/api/2.0/boot-resources/{id}/upload/{file_id}/ (MAAS's BootResourceFileUploadHandler):
 * the next part of an uploaded file's bytes, streamed into Postgres as it arrives. Mounted as
 * middleware (ahead of the API's catch-all route) so that the body is never buffered whole;
 * authenticated with the same OAuth API keys, admins only.
 */
@Injectable()
export class BootResourceUploadMiddleware implements NestMiddleware {
  constructor(
    @Inject(BootResourcesService) private readonly resources: BootResourcesService,
    @Inject(OAuthAuthenticator) private readonly oauth: OAuthAuthenticator,
  ) {}

  async use(req: Request, res: Response, next: NextFunction) {
    const path = req.originalUrl.split('?')[0];
    const m = UPLOAD.exec(path);
    if (!m || req.method !== 'PUT') return next();
    try {
      const q = req.originalUrl.indexOf('?');
      const user = await this.oauth.authenticate(req.headers.authorization, {
        method: 'PUT',
        origin: `${req.protocol}://${req.headers.host ?? 'localhost'}`,
        path,
        query: q < 0 ? '' : req.originalUrl.slice(q + 1),
        contentType: req.headers['content-type'],
        body: Buffer.alloc(0),
      });
      if (!user) throw new HttpError(401, 'Authorization Error: Anonymous access is not allowed for this request.', { 'WWW-Authenticate': 'OAuth realm="OAuth"' });
      if (!user.isAdmin) throw new HttpError(403, 'You do not have permission to perform this action.');
      const declared = /^\d+$/.test(req.headers['content-length'] ?? '') ? Number(req.headers['content-length']) : undefined;
      await this.resources.upload(Number(m[1]), Number(m[2]), req as AsyncIterable<Buffer>, declared);
      res.status(200).setHeader('content-type', 'text/plain; charset=utf-8');
      res.send('OK');
    } catch (e) {
      if (!req.complete) {
        res.setHeader('connection', 'close');
        req.resume();
      }
      sendError(res, e);
    }
  }
}
