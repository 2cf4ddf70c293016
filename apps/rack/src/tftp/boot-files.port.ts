// The port through which the TFTP and HTTP boot servers obtain files rendered per machine
// (PXELINUX, GRUB and iPXE configs). In production the boot-config side adapts it to the region's
// answers (cached on the rack); tests use `InMemoryBootFiles`. The servers never know how an
// answer is made, only what it is (STYLE habit 10: sources are ports with fakes).

export type BootProtocol = 'tftp' | 'http';

export interface BootClient {
  address: string;
  port: number;
}

export interface BootFileRequest {
  protocol: BootProtocol;
  /**
   * Path relative to the server root, '/'-separated, already confined (no "..", no leading '/').
   * For HTTP it is the decoded URL path without the leading '/', and without the query string.
   */
  path: string;
  /** HTTP only: the query parameters (iPXE scripts often ask `boot.ipxe?mac=${net0/mac}`). */
  query?: URLSearchParams;
  client: BootClient;
  /**
   * The MAC the path names, when it follows a known per-MAC pattern (see `macFromBootPath`), as
   * lower-case colon-separated hex. Absent: the adapter may still map `client.address` to a MAC
   * through its DHCP leases.
   */
  mac?: string;
}

export interface RenderedBootFile {
  content: Buffer;
  /** HTTP Content-Type; default `text/plain; charset=utf-8`. */
  contentType?: string;
  /** Identity of the machine the file was made for, carried into logs and transfer events. */
  mac?: string;
  systemId?: string;
}

/**
 * Answers `null` when the path is not a rendered file: the server then looks for a static file
 * under its root. Adapters must answer `null` quickly (without a round trip to the region) for
 * paths they never render, since every request asks the port first. Throwing means "cannot
 * render now" (e.g. region unreachable and nothing cached): TFTP answers ERROR 0, HTTP 503.
 */
export interface BootFileSource {
  render(request: BootFileRequest): Promise<RenderedBootFile | null>;
}
