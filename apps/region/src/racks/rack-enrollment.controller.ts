import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { nkeys } from 'nats';
import { rackEnrollmentRequest } from '@kiln/contracts';
import { readBody } from '../api/http/body.parser';
import { log } from '../logging/logger';
import { EnrollmentRefused, RackEnrollmentService } from './rack-enrollment.service';

/** Enrollment requests are small; nothing larger is read from an unauthenticated client. */
const ENROLL_BODY_LIMIT = 4096;

/** POST /MAAS/kiln/racks/enroll: a new rack spends its one-time token (see rack-enrollment.contract.ts). */
@Controller('MAAS/kiln/racks')
export class RackEnrollmentController {
  constructor(@Inject(RackEnrollmentService) private readonly enrollment: RackEnrollmentService) {}

  @Post(['enroll', 'enroll/'])
  async enroll(@Req() req: Request, @Res() res: Response) {
    let raw: unknown;
    try {
      const declared = Number(req.headers['content-length']);
      raw = JSON.parse((await readBody(req, ENROLL_BODY_LIMIT, Number.isFinite(declared) ? declared : undefined)).toString('utf8'));
    } catch {
      return res.status(400).json({ error: 'the body must be a JSON enrollment request of at most 4 KiB' });
    }
    const parsed = rackEnrollmentRequest.safeParse(raw);
    if (!parsed.success) {
      return res.status(400).json({ error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    }
    try {
      // A key with a bad checksum would make the NATS server refuse the whole config.
      nkeys.fromPublic(parsed.data.nkey);
    } catch {
      return res.status(400).json({ error: 'nkey: not a valid NATS public key (checksum)' });
    }
    try {
      return res.status(200).json(await this.enrollment.enroll(parsed.data));
    } catch (e) {
      if (e instanceof EnrollmentRefused) {
        log().warn({ rackId: parsed.data.rackId, hostname: parsed.data.hostname }, `rack enrollment refused: ${e.message}`);
        return res.status(403).json({ error: e.message });
      }
      throw e;
    }
  }
}
