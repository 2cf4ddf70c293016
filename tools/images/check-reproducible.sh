#!/usr/bin/env bash
# Shows that the ephemeral image is reproducible:
#  1. makes the squashfs twice from one built root and compares the two sha256s with each other
#     and with the image's manifest;
#  2. with --full, builds the whole image a second time (--force) and compares every file's
#     sha256; when they differ, lists the root's files that differ between the two builds.
#
#   tools/images/check-reproducible.sh [--full] [--root DIR --manifest FILE]
#
# --root/--manifest reuse a root kept by `build-ephemeral.sh --keep-root DIR` and that build's
# manifest.json instead of building one first. Takes 1 minute (squashfs only) to 15 (--full).
# Not run by CI: it rebuilds the image, which the cache exists to avoid.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export SOURCE_DATE_EPOCH=1735689600
full=0
root=""
manifest=""
while [ $# -gt 0 ]; do
  case "$1" in
    --full) full=1; shift ;;
    --root) root="$2"; shift 2 ;;
    --manifest) manifest="$2"; shift 2 ;;
    *) echo "check-reproducible: unknown argument: $1" >&2; exit 2 ;;
  esac
done
work="$(mktemp -d /var/tmp/kiln-repro-XXXXXX)"
trap 'rm -rf "$work"' EXIT
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"][sys.argv[2]]["sha256"])' "$1" "$2"; }

if [ -z "$root" ]; then
  dir="$("$here/build-ephemeral.sh" --force --keep-root "$work/root-a")"
  root="$work/root-a"
  cp "$dir/manifest.json" "$work/manifest-a.json"
  manifest="$work/manifest-a.json"
fi

status=0
"$here/make-squashfs.sh" "$root" "$work/one.squashfs" 2>/dev/null
"$here/make-squashfs.sh" "$root" "$work/two.squashfs" 2>/dev/null
one="$(sha256sum < "$work/one.squashfs" | cut -d' ' -f1)"
two="$(sha256sum < "$work/two.squashfs" | cut -d' ' -f1)"
built="$(field "$manifest" filesystem.squashfs)"
echo "squashfs from one root, twice: $one / $two (the build's: $built)"
if [ "$one" = "$two" ] && [ "$one" = "$built" ]; then echo "  same"; else echo "  DIFFERENT"; status=1; fi
rm -f "$work/one.squashfs" "$work/two.squashfs"

if [ "$full" = 1 ]; then
  dir="$("$here/build-ephemeral.sh" --force --keep-root "$work/root-b")"
  for f in vmlinuz initrd.img filesystem.squashfs; do
    a="$(field "$manifest" "$f")"
    b="$(field "$dir/manifest.json" "$f")"
    if [ "$a" = "$b" ]; then echo "whole build twice, $f: same ($a)"; else
      echo "whole build twice, $f: DIFFERENT ($a / $b)"; status=1; fi
  done
  if [ "$status" != 0 ]; then
    echo "files of the root that differ between the two builds:"
    diff -rq --no-dereference "$root" "$work/root-b" 2>&1 | sed "s|$root|A|g; s|$work/root-b|B|g" | head -n 100 || true
  fi
fi
exit "$status"
