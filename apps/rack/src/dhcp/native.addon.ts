// Loads the kiln_net N-API addon (apps/rack/native). build.sh runs first: it builds the module
// with node-gyp when it is missing or older than its source (development and CI machines have
// python3, make and a C compiler; packaged racks ship it prebuilt, and then build.sh only checks
// the timestamps). build.sh takes a lock, so parallel test workers never load a half-written file.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface KilnNet {
  /** Creates, configures and binds an IPv4 UDP socket; returns its descriptor. */
  openUdp4(opts: {
    address?: string;
    port: number;
    /** SO_BINDTODEVICE: only this interface's traffic, in and out. */
    device?: string;
    /** Create the socket inside this network namespace (a path such as /run/netns/NAME). */
    netns?: string;
    broadcast?: boolean;
    reuseAddr?: boolean;
    rcvbuf?: number;
  }): number;
  closeFd(fd: number): void;
  /**
   * Polls `fd` on Node's event loop; when readable, drains it with recvmmsg into `slab` (one
   * `slotSize` slot per datagram) and calls `onBatch(count)` once per batch, with
   * meta[3i] = length (slotSize + 1 when cut), meta[3i+1] = source address (host order),
   * meta[3i+2] = source port. A negative count is -errno.
   */
  startReceiver(fd: number, slab: Buffer, meta: Int32Array, slotSize: number, onBatch: (count: number) => void): unknown;
  stopReceiver(receiver: unknown): void;
  /** sendmmsg: returns how many datagrams the kernel took, or -errno if none. */
  sendBatch(fd: number, buffers: Buffer[], addrs: Uint32Array, ports: Uint16Array, count: number): number;
}

/** apps/rack/native, found from this file (works from the sources and from a build tree). */
export const NATIVE_DIR = path.resolve(__dirname, '..', '..', 'native');
const MODULE = path.join(NATIVE_DIR, 'build', 'Release', 'kiln_net.node');

let loaded: KilnNet | undefined;

export function loadKilnNet(opts: { build?: boolean } = {}): KilnNet {
  if (loaded) return loaded;
  if (opts.build !== false) {
    execFileSync('bash', [path.join(NATIVE_DIR, 'build.sh')], { stdio: ['ignore', 'ignore', 'pipe'] });
  } else if (!fs.existsSync(MODULE)) {
    throw new Error(`kiln_net is not built: run ${path.join(NATIVE_DIR, 'build.sh')}`);
  }
  // A native module cannot be imported statically: its path is only known at run time.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded = require(MODULE) as KilnNet;
  return loaded;
}
