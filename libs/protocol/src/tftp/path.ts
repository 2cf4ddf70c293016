// Confining a requested TFTP filename to the server's root, as pure string logic. What it cannot
// see is the file system: the server still opens `join(root, path)` with O_NOFOLLOW or checks
// realpath() against root, because a symlink inside root may point anywhere.

export type PathRefusalReason =
  /** Nothing left after normalising ("", "/", ".", "./"). */
  | 'empty'
  /** A NUL byte: C code would truncate the name there. */
  | 'nul-byte'
  /** A ".." segment, anywhere (tftp-hpa refuses these too, even ones that would stay inside). */
  | 'parent-directory';

export type ConfinedPath =
  | {
      ok: true;
      /** Relative to root, '/'-separated, no "", "." or ".." segments, no leading '/'. */
      path: string;
    }
  | { ok: false; reason: PathRefusalReason; message: string };

function segmentsOf(p: string): string[] {
  return p.split('/').filter((s) => s !== '' && s !== '.');
}

/**
 * Normalises `requested` to a path relative to `root`, or refuses it.
 *
 * - Backslashes count as separators (Windows-style PXE clients ask for "\boot\pxeboot.n12"), so
 *   "a\..\..\b" is refused like "a/../../b".
 * - An absolute path names a file under root: "/pxelinux.0" is "pxelinux.0" (tftp-hpa -s), and
 *   "/srv/tftp/pxelinux.0" with root "/srv/tftp" is also "pxelinux.0" (dnsmasq).
 * - Nothing is URL-decoded: "%2e%2e/x" is a file literally named that.
 *
 * `root` is the server's configuration: an absolute path without ".." segments, else TypeError.
 */
export function confinePath(root: string, requested: string): ConfinedPath {
  if (typeof root !== 'string' || !root.startsWith('/')) throw new TypeError('root: expected an absolute path');
  const rootSegments = segmentsOf(root);
  if (rootSegments.includes('..')) throw new TypeError('root: must not contain ".."');
  if (typeof requested !== 'string') throw new TypeError('requested: expected a string');

  if (requested.includes('\0')) return { ok: false, reason: 'nul-byte', message: 'filename contains a NUL byte' };
  const slashed = requested.replace(/\\/g, '/');
  let segments = segmentsOf(slashed);

  if (slashed.startsWith('/') && rootSegments.length > 0 && rootSegments.length <= segments.length) {
    let under = true;
    for (let i = 0; i < rootSegments.length && under; i++) under = segments[i] === rootSegments[i];
    if (under) segments = segments.slice(rootSegments.length);
  }

  if (segments.includes('..')) {
    return { ok: false, reason: 'parent-directory', message: `".." in ${JSON.stringify(requested)}` };
  }
  if (segments.length === 0) return { ok: false, reason: 'empty', message: 'no file name' };
  return { ok: true, path: segments.join('/') };
}
