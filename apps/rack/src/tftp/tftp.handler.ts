// Decides what a TFTP read request gets (STYLE habit 10: the handler never touches the socket):
// the path confined to the root, a file rendered per machine through the BootFileSource port, or
// a static boot loader from disk (checked with realpath against the root, so a symlink pointing
// out of the root is refused), and the negotiated options. Returns a reader to stream from, or
// the TFTP error to answer.
import { constants as fsc } from 'node:fs';
import { FileHandle, open, realpath } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import {
  confinePath,
  negotiateOptions,
  TftpErrorCode,
  TftpNegotiation,
  TftpOpcode,
  TftpRequestPacket,
} from '@kiln/protocol';
import { BootClient, BootFileSource } from './boot-files.port';
import { macFromBootPath } from './boot-path.parser';
import { toNetascii } from './payload.reader';
import type { TransferFailureReason, TransferSource } from './transfer-events.port';

export interface TftpHandlerConfig {
  /** The TFTP root: an absolute path. */
  root: string;
  /** Upper bound for blksize (default for a 1500-byte MTU: 1468). */
  maxBlksize: number;
  /** Upper bound for windowsize (RFC 7440). */
  maxWindowsize: number;
  /** Bytes per disk read for static files. */
  readChunkSize?: number;
}

/**
 * What the transfer sends: an open file (read in chunks by whichever thread runs the transfer;
 * the opener closes it) or rendered bytes.
 */
export type TftpPayload =
  | { kind: 'file'; fh: FileHandle; chunkSize: number; netascii: boolean }
  | { kind: 'buffer'; content: Buffer };

export async function releasePayload(p: TftpPayload): Promise<void> {
  if (p.kind === 'file') await p.fh.close().catch(() => undefined);
}

export interface TftpAccepted {
  ok: true;
  /** Confined path relative to the root. */
  path: string;
  source: TransferSource;
  mac?: string;
  systemId?: string;
  /** Bytes the client will receive (after netascii conversion, when known). */
  size: number | undefined;
  negotiation: TftpNegotiation;
  payload: TftpPayload;
}

export interface TftpRefused {
  ok: false;
  code: TftpErrorCode;
  message: string;
  reason: TransferFailureReason;
  path?: string;
  mac?: string;
  source?: TransferSource;
  /** What went wrong underneath (for the log, never sent to the client). */
  cause?: unknown;
}

export type TftpDecision = TftpAccepted | TftpRefused;

const DEFAULT_CHUNK = 64 * 1024;

function refuse(code: TftpErrorCode, reason: TransferFailureReason, message: string, extra: Partial<TftpRefused> = {}): TftpRefused {
  return { ok: false, code, reason, message, ...extra };
}

function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

export class TftpHandler {
  private rootReal: string | undefined;
  private readonly root: string;

  constructor(
    private readonly config: TftpHandlerConfig,
    private readonly bootFiles: BootFileSource,
  ) {
    if (!isAbsolute(config.root)) throw new TypeError('tftp root must be an absolute path');
    this.root = resolve(config.root);
  }

  /** Resolves the root once (it may itself be a symlink); fails fast if it does not exist. */
  async init(): Promise<void> {
    this.rootReal = await realpath(this.root);
  }

  async handle(req: TftpRequestPacket, client: BootClient): Promise<TftpDecision> {
    if (req.opcode === TftpOpcode.WRQ) {
      return refuse(TftpErrorCode.ACCESS_VIOLATION, 'bad-request', 'Kiln does not accept uploads');
    }
    if (req.mode === 'mail') return refuse(TftpErrorCode.ILLEGAL_OPERATION, 'bad-request', 'mail mode is not supported');

    const confined = confinePath(this.root, req.filename);
    if (!confined.ok) {
      const code = confined.reason === 'empty' ? TftpErrorCode.FILE_NOT_FOUND : TftpErrorCode.ACCESS_VIOLATION;
      return refuse(code, confined.reason === 'empty' ? 'not-found' : 'refused', confined.message);
    }
    const path = confined.path;
    const mac = macFromBootPath(path);

    let rendered;
    try {
      rendered = await this.bootFiles.render({ protocol: 'tftp', path, client, mac });
    } catch (cause) {
      return refuse(TftpErrorCode.NOT_DEFINED, 'unavailable', `cannot render ${path} now`, {
        path,
        mac,
        source: 'rendered',
        cause,
      });
    }
    if (rendered) {
      const content = req.mode === 'netascii' ? toNetascii(rendered.content) : rendered.content;
      return {
        ok: true,
        path,
        source: 'rendered',
        mac: rendered.mac ?? mac,
        systemId: rendered.systemId,
        size: content.length,
        negotiation: this.negotiate(req, content.length),
        payload: { kind: 'buffer', content },
      };
    }
    return this.openStatic(req, path, mac);
  }

  private negotiate(req: TftpRequestPacket, size: number | undefined): TftpNegotiation {
    return negotiateOptions(req.options, {
      maxBlksize: this.config.maxBlksize,
      maxWindowsize: this.config.maxWindowsize,
      tsize: size,
    });
  }

  private async openStatic(req: TftpRequestPacket, path: string, mac: string | undefined): Promise<TftpDecision> {
    const rootReal = this.rootReal ?? (await realpath(this.root));
    const extra = { path, mac, source: 'static' as const };
    let real: string;
    try {
      real = await realpath(join(rootReal, path));
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return refuse(TftpErrorCode.FILE_NOT_FOUND, 'not-found', 'File not found', extra);
      return refuse(TftpErrorCode.ACCESS_VIOLATION, 'refused', `Access violation (${code ?? 'error'})`, extra);
    }
    if (real !== rootReal && !real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep)) {
      return refuse(TftpErrorCode.ACCESS_VIOLATION, 'refused', 'Access violation: outside the TFTP root', extra);
    }
    let fh;
    try {
      // O_NOFOLLOW: `real` has no symlink left; if one was swapped in since, refuse it.
      fh = await open(real, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOENT') return refuse(TftpErrorCode.FILE_NOT_FOUND, 'not-found', 'File not found', extra);
      return refuse(TftpErrorCode.ACCESS_VIOLATION, 'refused', `Access violation (${code ?? 'error'})`, extra);
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) {
        await fh.close();
        return refuse(TftpErrorCode.ACCESS_VIOLATION, 'refused', 'Access violation: not a regular file', extra);
      }
      const netascii = req.mode === 'netascii';
      // The netascii size is only known after converting the whole file: no tsize then (as tftp-hpa).
      const size = netascii ? undefined : st.size;
      const negotiation = this.negotiate(req, size);
      const chunkSize = Math.max(
        this.config.readChunkSize ?? DEFAULT_CHUNK,
        Math.min(4 << 20, 2 * negotiation.blksize * negotiation.windowsize),
      );
      return { ok: true, ...extra, size, negotiation, payload: { kind: 'file', fh, chunkSize, netascii } };
    } catch (cause) {
      await fh.close().catch(() => undefined);
      return refuse(TftpErrorCode.NOT_DEFINED, 'io-error', `cannot read ${path}`, { ...extra, cause });
    }
  }
}
