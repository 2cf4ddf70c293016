// TFTP option negotiation (RFC 2347 with RFC 2348 blksize, RFC 2349 timeout/tsize, RFC 7440
// windowsize). Pure: the server passes what it is willing to do, gets back what to put in the
// OACK and the parameters of the transfer.
import { TftpOptions } from './packet.codec';

export const TFTP_DEFAULT_BLKSIZE = 512;
export const TFTP_MIN_BLKSIZE = 8;
export const TFTP_MAX_BLKSIZE = 65464;
export const TFTP_MIN_TIMEOUT = 1;
export const TFTP_MAX_TIMEOUT = 255;
export const TFTP_MAX_WINDOWSIZE = 65535;

/** IPv4 header 20 + UDP header 8 + TFTP DATA header 4. */
const DATA_OVERHEAD = 32;

/**
 * The largest blksize whose DATA packet fits one IPv4 datagram of `mtu` bytes without
 * fragmenting: 1500 gives 1468 (the figure curl and busybox use; iPXE asks for 1432).
 */
export function blksizeForMtu(mtu: number): number {
  return Math.min(TFTP_MAX_BLKSIZE, Math.max(TFTP_MIN_BLKSIZE, Math.floor(mtu) - DATA_OVERHEAD));
}

export interface TftpLimits {
  /** Upper bound for blksize, TFTP_MIN_BLKSIZE..TFTP_MAX_BLKSIZE; e.g. `blksizeForMtu(1500)`. */
  maxBlksize: number;
  /** Upper bound for windowsize; 1 (the default) means lock-step, as RFC 1350. */
  maxWindowsize?: number;
  /**
   * The size to report for tsize. For an RRQ pass the file's actual size; for a WRQ pass the
   * client's announced size if the server accepts it. Omitted: tsize is not acknowledged.
   */
  tsize?: number;
  /** Timeouts the server agrees to echo; default the RFC 2349 range 1..255 seconds. */
  timeout?: { min: number; max: number };
}

export interface TftpNegotiation {
  /**
   * Options to acknowledge, i.e. the OACK's options. Empty when nothing was accepted: then the
   * server sends no OACK and starts as RFC 1350 does (DATA 1 for an RRQ, ACK 0 for a WRQ).
   */
  accepted: TftpOptions;
  /** True when `accepted` is not empty. */
  sendOack: boolean;
  /** Effective transfer parameters. */
  blksize: number;
  windowsize: number;
  /** Seconds, when the client asked for one and it was accepted; else the server's own choice. */
  timeout?: number;
  tsize?: number;
}

/**
 * Decides which requested options to accept (RFC 2347 3: the server may ignore any option, and
 * never adds one the client did not ask for):
 * - blksize: below 8 is refused; otherwise min(requested, maxBlksize), which also clamps a value
 *   above 65464 the way tftp-hpa does. RFC 2348 lets the server answer with a smaller value.
 * - timeout: 1..255 (or the server's narrower range) is echoed unchanged, anything else refused;
 *   RFC 2349 does not let the server change it.
 * - tsize: answered with `limits.tsize` when that is given (RFC 2349: an RRQ sends 0 and the
 *   server replies with the real size).
 * - windowsize: below 1 is refused; otherwise min(requested, maxWindowsize, 65535) (RFC 7440).
 * - unknown options are never acknowledged.
 */
export function negotiateOptions(requested: TftpOptions, limits: TftpLimits): TftpNegotiation {
  const maxBlksize = limits.maxBlksize;
  if (!Number.isInteger(maxBlksize) || maxBlksize < TFTP_MIN_BLKSIZE || maxBlksize > TFTP_MAX_BLKSIZE) {
    throw new RangeError(`maxBlksize must be ${TFTP_MIN_BLKSIZE}..${TFTP_MAX_BLKSIZE}`);
  }
  const maxWindowsize = limits.maxWindowsize ?? 1;
  if (!Number.isInteger(maxWindowsize) || maxWindowsize < 1 || maxWindowsize > TFTP_MAX_WINDOWSIZE) {
    throw new RangeError(`maxWindowsize must be 1..${TFTP_MAX_WINDOWSIZE}`);
  }
  const tmin = Math.max(TFTP_MIN_TIMEOUT, limits.timeout?.min ?? TFTP_MIN_TIMEOUT);
  const tmax = Math.min(TFTP_MAX_TIMEOUT, limits.timeout?.max ?? TFTP_MAX_TIMEOUT);

  const accepted: TftpOptions = {};
  const result: TftpNegotiation = { accepted, sendOack: false, blksize: TFTP_DEFAULT_BLKSIZE, windowsize: 1 };

  const b = requested.blksize;
  if (b !== undefined && b >= TFTP_MIN_BLKSIZE) {
    accepted.blksize = result.blksize = Math.min(b, maxBlksize);
  }
  const t = requested.timeout;
  if (t !== undefined && t >= tmin && t <= tmax) {
    accepted.timeout = result.timeout = t;
  }
  if (requested.tsize !== undefined && limits.tsize !== undefined) {
    if (!Number.isSafeInteger(limits.tsize) || limits.tsize < 0) throw new RangeError('tsize must be a size in bytes');
    accepted.tsize = result.tsize = limits.tsize;
  }
  const w = requested.windowsize;
  if (w !== undefined && w >= 1) {
    accepted.windowsize = result.windowsize = Math.min(w, maxWindowsize, TFTP_MAX_WINDOWSIZE);
  }
  result.sendOack = Object.keys(accepted).length > 0;
  return result;
}
