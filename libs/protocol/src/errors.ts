/**
 * The one error a decoder may throw. Protocol servers catch it, log `kind` and count it, and
 * carry on with the next datagram (STYLE habit 10: the socket loop never dies on bad input).
 *
 * Encoders do not throw this: a value that cannot be encoded is a programming error and raises
 * a plain `TypeError` or `RangeError`.
 */
export type MalformedKind =
  /** Shorter than the fixed header, or a string that is not NUL-terminated. */
  | 'truncated'
  /** DHCP: the four bytes after the BOOTP header are not 99.130.83.99. */
  | 'bad-cookie'
  /** DHCP: an option's length runs past the end of its area, or the length byte is missing. */
  | 'bad-option-length'
  /** A fixed header field holds a value the protocol does not allow (BOOTP op, hlen > 16). */
  | 'bad-field'
  /** DHCP: an option where it may not appear (option 52 inside an overloaded field). */
  | 'bad-option'
  /** TFTP: unknown opcode. */
  | 'bad-opcode'
  /** TFTP: transfer mode other than netascii, octet or mail. */
  | 'bad-mode'
  /** TFTP: a filename that is not valid UTF-8. */
  | 'bad-string'
  /** TFTP: an option name without a value, or an empty option name. */
  | 'bad-option-pair'
  /** TFTP: the same option twice in one request. */
  | 'duplicate-option';

export type MalformedProtocol = 'dhcp4' | 'tftp';

export class MalformedPacketError extends Error {
  override readonly name = 'MalformedPacketError';

  constructor(
    readonly protocol: MalformedProtocol,
    readonly kind: MalformedKind,
    message: string,
    /** Byte offset where decoding stopped, when known. */
    readonly offset?: number,
  ) {
    super(`${protocol}: ${kind}: ${message}`);
  }
}

export function isMalformedPacketError(e: unknown): e is MalformedPacketError {
  return e instanceof MalformedPacketError;
}
