// Every file the rack's boot servers deliver, and every delivery that failed, goes out through
// this port so the region can record it as a boot step on the machine ("got a lease but never
// fetched the kernel" must be visible; ARCHITECTURE, lessons). The adapter (JetStream publisher,
// owned with the rack's NATS wiring) must not block: the servers call it and move on.
import type { BootProtocol } from './boot-files.port';

export type TransferSource = 'static' | 'rendered' | 'proxy';

export interface TransferBase {
  protocol: BootProtocol;
  /** The path as the client asked for it (TFTP filename, HTTP URL path). */
  file: string;
  client: { address: string; port: number };
  /** When known: from a per-MAC path or from the rendered file's answer. */
  mac?: string;
  systemId?: string;
  /** Wall-clock time the request arrived (ms since the epoch). */
  startedAt: number;
  durationMs: number;
  /** Payload bytes delivered (DATA payloads acknowledged; HTTP body bytes written). */
  bytes: number;
}

export interface TransferServed extends TransferBase {
  source: TransferSource;
  /** Size of the file (or of the range) that was to be delivered. */
  size: number;
  tftp?: { blksize: number; windowsize: number; retransmits: number; mode: string };
  http?: { method: string; status: number; range?: string };
}

export type TransferFailureReason =
  /** The file does not exist (TFTP ERROR 1, HTTP 404). */
  | 'not-found'
  /** The path escapes the root, or names something that is not a regular readable file. */
  | 'refused'
  /** The request itself is not acceptable (WRQ, bad method, bad range). */
  | 'bad-request'
  /** The client stopped answering; retransmissions ran out. */
  | 'timeout'
  /** The client sent an ERROR or closed the connection before the end. */
  | 'aborted'
  /** The rendered-file source or the region could not answer. */
  | 'unavailable'
  /** Too many transfers in progress. */
  | 'busy'
  /** Reading the file failed. */
  | 'io-error';

export interface TransferFailed extends TransferBase {
  reason: TransferFailureReason;
  message: string;
  source?: TransferSource;
  tftp?: { errorCode?: number; blksize?: number; windowsize?: number; retransmits?: number };
  http?: { method: string; status?: number };
}

export interface TransferEvents {
  served(event: TransferServed): void;
  failed(event: TransferFailed): void;
}

/** For when nobody listens (benchmarks, tools). */
export const NO_TRANSFER_EVENTS: TransferEvents = {
  served: () => undefined,
  failed: () => undefined,
};
