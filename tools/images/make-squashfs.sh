#!/bin/sh
# Makes the ephemeral environment's squashfs from a root directory, reproducibly: every inode
# and the filesystem itself carry SOURCE_DATE_EPOCH, entries are sorted (mksquashfs always sorts
# directories), and /boot (served apart as vmlinuz and initrd.img) is left out.
#
#   tools/images/make-squashfs.sh ROOT OUT.squashfs
set -eu
root="$1"
out="$2"
epoch="${SOURCE_DATE_EPOCH:-1735689600}"
rm -f "$out"
# mksquashfs refuses SOURCE_DATE_EPOCH together with the explicit time options below.
env -u SOURCE_DATE_EPOCH mksquashfs "$root" "$out" -noappend -comp zstd -b 1M \
  -mkfs-time "$epoch" -all-time "$epoch" -no-progress -quiet \
  -e boot >/dev/null
